"""Where the native build lives, and loading the ggml backend libraries before a model loads.

Backends are chosen by the backend plugins (``llmrt.backends``): ``ensure_backends`` loads the
host (CPU) backend the cpu plugin chose by execution, and ``place`` picks the backend for a model
and loads its library. Neither ever calls ``ggml_backend_load_all`` (which would pick the AMX
variant on these machines and crash).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BackendError

if TYPE_CHECKING:
    from llmrt.backends.manager import LoadPlan

log = logging.getLogger("llmrt.native")
NATIVE_DIR = Path(__file__).resolve().parent / "_native"
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
    from llmrt.backends.manager import get_manager

    _cpu_variant = get_manager().ensure_host()
    return _cpu_variant


def place(model_path: str | os.PathLike[str], *, num_ctx: int, parallel: int = 1,
          backend: str | None = None) -> LoadPlan:
    """Choose the backend and placement for a model and load the backend's library.

    The returned plan's ``devices`` (ggml device indices, or None) and ``n_gpu_layers`` go into
    ``llama_model_params``. A GGUF header the planner cannot read keeps the model on the host;
    llama.cpp then reports what is wrong with the file.
    """
    from llmrt.backends import model_sizes
    from llmrt.backends.manager import get_manager

    ensure_backends()
    try:
        sizes = model_sizes.read(model_path)
    except (OSError, ValueError) as exc:
        log.info("placement: cannot read the sizes of %s (%s); using the host", model_path, exc)
        sizes = None
    manager = get_manager()
    selection = manager.select(sizes, num_ctx=num_ctx, parallel=parallel, backend=backend)
    log.info("placement for %s:\n%s", model_path, selection.explain())
    return manager.load(selection)


def physical_cores() -> int:
    """Physical cores (not hardware threads): the default thread count, as Ollama does."""
    pairs = set()
    phys = core = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("physical id"):
                phys = line.split(":")[1].strip()
            elif line.startswith("core id"):
                core = line.split(":")[1].strip()
            elif not line.strip() and core is not None:
                pairs.add((phys, core))
                phys = core = None
        if core is not None:
            pairs.add((phys, core))
    except OSError:
        pass
    return max(1, len(pairs) or (os.cpu_count() or 1))


def tool(name: str) -> Path:
    """A llama.cpp tool that will load exactly the CPU variant llmrt chose.

    The tools call ``ggml_backend_load_all``, which scans the executable's own directory and
    picks the variant with the highest CPUID score (the faulting AMX one here). So each tool runs
    from ``<cache>/tools/<variant>/``: a hard link (or copy) of the binary, links to the shared
    libraries, and only the chosen ``libggml-cpu-<variant>.so``.
    """
    variant = ensure_backends()
    src = tool_path(name)
    root = os.environ.get("LLMRT_CACHE_DIR") or Path.home() / ".cache" / "llmrt"
    stamp = f"{int(src.stat().st_mtime)}-{src.stat().st_size}"
    where = hashlib.sha1(str(NATIVE_DIR).encode()).hexdigest()[:8]  # one per checkout
    d = Path(root) / "tools" / f"{variant}-{where}"
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
