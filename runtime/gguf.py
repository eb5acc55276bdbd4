"""Read a GGUF file's header without llama.cpp: metadata, the tensor table, and what follows.

A GGUF file is a header (magic, version, key/value metadata, tensor infos) followed by aligned
tensor data. The store (details, quantization level, templates), placement (layer sizes) and the
subprocess engine read it here; nothing imports the compiled module. Long arrays (the vocabulary)
are skipped unless asked for and read as ``None``; ``keep`` skips whole keys cheaply.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ModelLoadError

MAGIC = b"GGUF"

#: llama_ftype values (``general.file_type``), named as Ollama names them
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M",
    30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
}

#: ggml tensor types, for files without ``general.file_type``
TENSOR_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class GGUFError(ModelLoadError, ValueError):
    """Not a GGUF file, a version this reader does not know, or a truncated header."""


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]
    ggml_type: int
    offset: int  # from the start of the data section

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n


@dataclass(frozen=True, slots=True)
class GGUFHeader:
    path: str
    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    data_start: int
    file_size: int

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture", ""))

    @property
    def n_tensors(self) -> int:
        return len(self.tensors)

    @property
    def n_params(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @property
    def tensor_types(self) -> Counter[int]:
        """ggml types of the matrices (2-D and up): what the weights are quantized to."""
        return Counter(t.ggml_type for t in self.tensors if len(t.dims) >= 2)

    @property
    def kind(self) -> str:
        """``model``, ``adapter`` or ``projector``: which layer media type the file belongs in."""
        if self.get("general.type") == "adapter":
            return "adapter"
        if self.architecture == "clip" or self.get("general.type") in ("mmproj", "projector"):
            return "projector"
        return "model"

    @property
    def file_type(self) -> str:
        """The quantization level Ollama reports (``Q4_K_M``)."""
        ft = self.get("general.file_type")
        if isinstance(ft, int) and ft in FILE_TYPES:
            return FILE_TYPES[ft]
        if self.tensor_types:
            return TENSOR_TYPES.get(self.tensor_types.most_common(1)[0][0], "unknown")
        return "unknown"

    @property
    def parameter_size(self) -> str:
        return human_number(self.n_params)

    def tensor_bytes(self) -> dict[str, int]:
        """Each tensor's bytes: the distance to the next tensor's offset (the last runs to the
        end of the file), so no table of quantization block sizes is needed. Alignment padding
        is counted with the tensor, which errs on the safe side for placement."""
        ordered = sorted(self.tensors, key=lambda t: t.offset)
        data_len = self.file_size - self.data_start
        out = {}
        for i, t in enumerate(ordered):
            end = ordered[i + 1].offset if i + 1 < len(ordered) else data_len
            out[t.name] = max(0, end - t.offset)
        return out


def human_number(n: int) -> str:
    """Ollama's ``format.HumanNumber``: 134515008 -> ``134.52M``, 3212749888 -> ``3.2B``."""
    for unit, size, places in (("B", 10**9, 1), ("M", 10**6, 2), ("K", 10**3, 0)):
        if n >= size:
            value = n / size
            return f"{value:.{0 if value == int(value) else places}f}{unit}"
    return str(n)


def read_header(path: str | os.PathLike[str], *, max_array: int = 64,
                keep: Callable[[str], bool] | None = None) -> GGUFHeader:
    """Read the header of the GGUF file at ``path``. Arrays longer than ``max_array`` read as
    None; keys that ``keep`` rejects are skipped. GGUFError if it is not a readable GGUF."""
    p = Path(path)
    try:
        with p.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _Reader(buf, max_array, keep).read(str(p))
    except ValueError as exc:  # mmap of an empty file
        if isinstance(exc, GGUFError):
            raise
        raise GGUFError(f"{p}: not a GGUF file ({exc})") from exc
    except (struct.error, UnicodeDecodeError, IndexError) as exc:
        raise GGUFError(f"{p}: truncated or malformed GGUF header ({exc})") from exc


class _Reader:
    def __init__(self, buf: mmap.mmap, max_array: int,
                 keep: Callable[[str], bool] | None) -> None:
        self.buf = buf
        self.pos = 0
        self.max_array = max_array
        self.keep = keep

    def read(self, path: str) -> GGUFHeader:
        if self.buf[:4] != MAGIC:
            raise GGUFError(f"{path} is not a GGUF file")
        self.pos = 4
        version = self.scalar("<I")
        if version not in (2, 3):
            raise GGUFError(f"{path}: GGUF version {version} is not supported")
        n_tensors, n_kv = self.scalar("<Q"), self.scalar("<Q")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = self.string()
            wanted = self.keep is None or self.keep(key)
            value = self.value(self.scalar("<I"), wanted)
            if wanted:
                metadata[key] = value
        tensors = []
        for _ in range(n_tensors):
            name = self.string()
            n_dims = self.scalar("<I")
            dims = struct.unpack_from(f"<{n_dims}Q", self.buf, self.pos)
            self.pos += 8 * n_dims
            ggml_type = self.scalar("<I")
            tensors.append(TensorInfo(name, tuple(dims), ggml_type, self.scalar("<Q")))
        align = int(metadata.get("general.alignment", 32) or 32)
        data_start = -(-self.pos // align) * align
        return GGUFHeader(path, version, metadata, tuple(tensors), data_start, len(self.buf))

    def scalar(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        n = self.scalar("<Q")
        raw = self.buf[self.pos:self.pos + n]
        if len(raw) != n:
            raise GGUFError("truncated string in the GGUF header")
        self.pos += n
        return raw.decode("utf-8", "replace")

    def value(self, vtype: int, wanted: bool) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            if wanted:
                return self.string()
            n = self.scalar("<Q")  # read first: `self.pos += self.scalar()` would lose 8 bytes
            self.pos += n
            return None
        if vtype != _ARRAY:
            raise GGUFError(f"unknown GGUF value type {vtype}")
        etype, count = self.scalar("<I"), self.scalar("<Q")
        if wanted and count <= self.max_array:
            return [self.value(etype, True) for _ in range(count)]
        if etype in _SCALARS:
            self.pos += struct.calcsize(_SCALARS[etype]) * count
        else:
            for _ in range(count):
                self.value(etype, False)
        return None
