"""Just enough of the GGUF format to describe a model without loading it: the key/value metadata
and the tensor table (for the parameter count and the quantization level).

Long arrays (the tokenizer's vocabulary) are skipped unless asked for; they read as ``None``.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ModelLoadError

MAGIC = b"GGUF"

#: llama_ftype values, named as Ollama names them (``general.file_type``)
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


@dataclass(frozen=True, slots=True)
class GGUFInfo:
    version: int
    metadata: dict[str, Any]
    n_tensors: int
    n_params: int
    tensor_types: Counter[int] = field(default_factory=Counter)

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture", ""))

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


def human_number(n: int) -> str:
    """Ollama's ``format.HumanNumber``: 134515008 -> ``134.52M``, 3212749888 -> ``3.2B``."""
    for unit, size, places in (("B", 10**9, 1), ("M", 10**6, 2), ("K", 10**3, 0)):
        if n >= size:
            value = n / size
            return f"{value:.{0 if value == int(value) else places}f}{unit}"
    return str(n)


def read_gguf(path: Path, *, max_array: int = 64) -> GGUFInfo:
    """Read a GGUF header; arrays longer than ``max_array`` read as None. ModelLoadError if the
    file is not GGUF or is truncated."""
    try:
        with Path(path).open("rb") as f:
            return _Reader(f, max_array).read()
    except (struct.error, EOFError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path}: truncated or malformed GGUF header ({exc})") from exc


class _Reader:
    def __init__(self, f: BinaryIO, max_array: int) -> None:
        self.f = f
        self.max_array = max_array

    def read(self) -> GGUFInfo:
        if self.f.read(4) != MAGIC:
            raise ModelLoadError(f"{self.f.name} is not a GGUF file")
        version = self._u32()
        if version < 2:
            raise ModelLoadError(f"{self.f.name}: GGUF version {version} is not supported")
        n_tensors, n_kv = self._u64(), self._u64()
        metadata = {}
        for _ in range(n_kv):
            key = self._str()
            metadata[key] = self._value(self._u32())
        n_params = 0
        types: Counter[int] = Counter()
        for _ in range(n_tensors):
            self._skip_str()
            n_dims = self._u32()
            dims = struct.unpack(f"<{n_dims}Q", self._take(8 * n_dims))
            ggml_type = self._u32()
            self._u64()  # offset
            count = 1
            for d in dims:
                count *= d
            n_params += count
            if len(dims) >= 2:
                types[ggml_type] += 1
        return GGUFInfo(version, metadata, n_tensors, n_params, types)

    def _take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise EOFError("unexpected end of file")
        return data

    def _u32(self) -> int:
        return struct.unpack("<I", self._take(4))[0]

    def _u64(self) -> int:
        return struct.unpack("<Q", self._take(8))[0]

    def _str(self) -> str:
        return self._take(self._u64()).decode("utf-8")

    def _skip_str(self) -> None:
        self.f.seek(self._u64(), 1)

    def _value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            fmt = _SCALARS[vtype]
            return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]
        if vtype == _STRING:
            return self._take(self._u64()).decode("utf-8", "replace")
        if vtype == _ARRAY:
            item_type, count = self._u32(), self._u64()
            if count <= self.max_array:
                return [self._value(item_type) for _ in range(count)]
            if item_type in _SCALARS:
                self.f.seek(count * struct.calcsize(_SCALARS[item_type]), 1)
            else:
                for _ in range(count):
                    self._skip_value(item_type)
            return None
        raise ModelLoadError(f"{self.f.name}: unknown GGUF value type {vtype}")

    def _skip_value(self, vtype: int) -> None:
        if vtype == _STRING:
            self._skip_str()
        else:
            self._value(vtype)
