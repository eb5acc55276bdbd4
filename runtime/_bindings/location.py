"""Where the native build lives: the llama.cpp/ggml libraries and tools the binding loads.

Importing this module loads nothing (the compiled module is imported by ``_lib`` only), so the
backend plugins and the llama-server engine can find the build when the extension is broken.
"""

from __future__ import annotations

from pathlib import Path

#: ``runtime/_native``: the libraries (``$ORIGIN/_native`` rpath of the compiled module) and tools
NATIVE_DIR = Path(__file__).resolve().parent.parent / "_native"
