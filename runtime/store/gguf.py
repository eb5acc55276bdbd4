"""The GGUF header reader the store uses: ``runtime/gguf.py`` (one reader for the whole package).

``read_gguf(path)`` reads the metadata and the tensor table (for the parameter count and the
quantization level); long arrays (the vocabulary) read as ``None`` unless asked for.
"""

from __future__ import annotations

from pathlib import Path

from ..gguf import FILE_TYPES, TENSOR_TYPES, GGUFError, GGUFHeader, human_number, read_header

__all__ = ["FILE_TYPES", "TENSOR_TYPES", "GGUFError", "GGUFHeader", "human_number", "read_gguf"]


def read_gguf(path: Path, *, max_array: int = 64) -> GGUFHeader:
    """Read a GGUF header; arrays longer than ``max_array`` read as None. GGUFError (a
    ModelLoadError) if the file is not GGUF or is truncated."""
    return read_header(path, max_array=max_array)
