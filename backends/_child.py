"""Run a driver probe in a fresh child process with a timeout, and read its one JSON line.

Driver probes ``dlopen`` vendor libraries (libcuda, libvulkan, ggml's RPC client) with their own
cffi ABI-mode ``FFI``; a driver that crashes, hangs or prints to stdout must not take the
runtime with it. The child is a plain script run by path (``python script.py args``) that
imports nothing of llmrt, so it does not load llama.cpp either; or, for the CPU variant probe,
a module run with ``python -m`` that loads one ggml CPU library through the binding.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT_S = 30.0


class ChildFailed(Exception):
    """The probe child crashed, timed out or printed no result; the message is the reason.
    ``signal``: the name of the signal that killed it (``"SIGILL"``), when one did."""

    def __init__(self, message: str, signal: str = "") -> None:
        super().__init__(message)
        self.signal = signal


def run(script: Path | str, *args: str, timeout: float = DEFAULT_TIMEOUT_S,
        env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``script`` (a path, or a module name for ``python -m``) with ``args``; return the
    JSON object on its last stdout line."""
    target = [str(script)] if isinstance(script, Path) else ["-m", script]
    cmd = [sys.executable, *target, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ChildFailed(f"the probe timed out after {timeout:.0f}s") from None
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        raise ChildFailed(f"the probe crashed with {name}", name)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return dict(json.loads(line))
            except ValueError:
                break
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    raise ChildFailed(f"the probe exited {proc.returncode} without a result: {tail}")
