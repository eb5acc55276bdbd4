"""Facts about this machine and where llmrt keeps its caches; imports nothing of llmrt.

``physical_cores()`` is the default thread count (as Ollama's); ``cache_dir()`` is where the
runtime caches the bundled models, CPU variant verdicts and tool directories:
``$LLMRT_CACHE_DIR``, else ``~/.cache/llmrt``. (``vendor/fetch_llama_cpp.py`` and
``build_ffi.py`` run before llmrt is installed and keep their own copy of that rule.)
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE_DIR = "LLMRT_CACHE_DIR"


def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE_DIR) or Path.home() / ".cache" / "llmrt")


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
