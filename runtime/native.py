"""The native build: where it lives, the host backend, and the llama.cpp tools.

``ensure_backends`` loads the host (CPU) backend the cpu plugin chose by execution (the binding
needs it before any model loads); ``tool`` runs llama.cpp's own programs on exactly that variant.
Neither ever calls ``ggml_backend_load_all`` (which would pick the AMX variant on these machines
and crash). Which backend a model runs on is the loader's question (``runtime/loader.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from llmrt.backends.host import cache_dir
from llmrt.backends.manager import get_manager

from ._bindings.location import NATIVE_DIR
from .errors import BackendError

_cpu_variant: str | None = None


def native_dir() -> Path:
    return NATIVE_DIR


def tool_path(name: str) -> Path:
    """Path of a built llama.cpp tool (llama-server, ggml-rpc-server, llama-bench)."""
    p = NATIVE_DIR / name
    if not p.exists():
        raise BackendError(f"{name} was not built (expected at {p}); run `pip install -e .`")
    return p


def cpu_variant() -> str | None:
    return _cpu_variant


def ensure_backends() -> str:
    """Load the host (CPU) backend through the backend manager (once); return its variant."""
    global _cpu_variant
    _cpu_variant = get_manager().ensure_host()
    return _cpu_variant


def tool(name: str) -> Path:
    """A llama.cpp tool that will load exactly the CPU variant llmrt chose.

    The tools call ``ggml_backend_load_all``, which scans the executable's own directory and
    picks the variant with the highest CPUID score (the faulting AMX one here). So each tool runs
    from ``<cache>/tools/<variant>/``: a hard link (or copy) of the binary, links to the shared
    libraries, and only the chosen ``libggml-cpu-<variant>.so``. Nothing is loaded into this
    process: the llama-server engine works without the compiled module.
    """
    variant = get_manager().host_variant()
    src = tool_path(name)
    stamp = f"{int(src.stat().st_mtime)}-{src.stat().st_size}"
    where = hashlib.sha1(str(NATIVE_DIR).encode()).hexdigest()[:8]  # one per checkout
    d = cache_dir() / "tools" / f"{variant}-{where}"
    exe = d / name
    stamp_file = d / f".{name}.stamp"
    if exe.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return exe
    d.mkdir(parents=True, exist_ok=True)
    for lib in NATIVE_DIR.iterdir():
        if not lib.name.startswith("lib") or ".so" not in lib.name:
            continue
        if lib.name.startswith("libggml-cpu-") and lib.name != f"libggml-cpu-{variant}.so":
            continue
        link = d / lib.name
        if link.is_symlink() and link.resolve() != lib.resolve():
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(lib.resolve())
    tmp = d / f".{name}.tmp"
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, exe)
    stamp_file.write_text(stamp)
    return exe
