"""The Go oracle: builds main.go with the system's ``go`` (offline, no modules) and renders
batches of cases with Go's own text/template, for byte-for-byte comparison."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from llmrt.runtime.errors import TemplateError

from tests.conftest import require_system

HERE = Path(__file__).parent


class Oracle:
    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def run(self, cases: list[dict[str, Any]]) -> list[bytes | str]:
        """Each case's output bytes, or its error text (a ``str``)."""
        proc = subprocess.run([str(self.binary)], input=json.dumps({"cases": cases}).encode(),
                              capture_output=True, timeout=300, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"oracle failed: {proc.stderr.decode(errors='replace')}")
        out: list[bytes | str] = []
        for r in json.loads(proc.stdout):
            out.append(base64.b64decode(r["out"] or "") if "out" in r else r["error"])
        return out


def build_oracle() -> Oracle:
    go = shutil.which("go")
    require_system(go is not None, "the Go oracle needs the go toolchain", "golang-go")
    assert go is not None
    work = Path(tempfile.mkdtemp(prefix="llmrt-gotemplate-oracle-"))
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GO111MODULE": "on",
           "GOCACHE": str(work / "cache"), "GOPATH": str(work / "gopath"), "CGO_ENABLED": "0"}
    binary = work / "oracle"
    proc = subprocess.run([go, "build", "-o", str(binary), "."], cwd=HERE, env=env,
                          capture_output=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"go build failed: {proc.stderr.decode(errors='replace')}")
    return Oracle(binary)


def mismatch(label: str, want: bytes | str, got: bytes | TemplateError) -> str | None:
    """How Python's result differs from Go's (``want``: bytes, or Go's error text), or None.
    A template Go refuses must raise TemplateError; one Go renders must match byte for byte."""
    if isinstance(want, str):
        return None if isinstance(got, TemplateError) else (
            f"{label}: Go fails ({want}), Python gave {got!r}")
    if isinstance(got, TemplateError):
        return f"{label}: Go gives {want!r}, Python raised {got}"
    return None if got == want else f"{label}:\n  Go     {want!r}\n  Python {got!r}"
