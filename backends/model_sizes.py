"""Read the sizes placement needs from a GGUF file's header, without loading the model.

A GGUF file is a header (magic, version, key/value metadata, tensor infos) followed by aligned
tensor data. Only the header is parsed; a tensor's size is the distance to the next tensor's
offset (the last one runs to the end of the file), so no table of quantization block sizes is
needed and new quant types cost nothing. Alignment padding (at most ``general.alignment - 1``
bytes per tensor) is counted with the tensor, which errs on the safe side.
"""

from __future__ import annotations

import mmap
import os
import re
import struct
from pathlib import Path
from typing import Any

from .types import ModelSizes

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_WANTED = re.compile(r"^(general\.(architecture|alignment)|[^.]+\.(block_count|context_length|"
                     r"embedding_length|feed_forward_length|attention\.(head_count|head_count_kv|"
                     r"key_length|value_length)))$")
_BLOCK = re.compile(r"^blk\.(\d+)\.")


class GGUFFormatError(ValueError):
    """The file is not a GGUF file this reader understands."""


class _Reader:
    def __init__(self, buf: mmap.mmap) -> None:
        self.buf = buf
        self.pos = 0

    def scalar(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        n = self.scalar("<Q")
        raw = self.buf[self.pos:self.pos + n]
        if len(raw) != n:
            raise GGUFFormatError("truncated string in the GGUF header")
        self.pos += n
        return raw.decode("utf-8", "replace")

    def value(self, vtype: int, keep: bool) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            if keep:
                return self.string()
            n = self.scalar("<Q")
            self.pos += n  # skip without decoding
            return None
        if vtype != _ARRAY:
            raise GGUFFormatError(f"unknown GGUF value type {vtype}")
        etype, count = self.scalar("<I"), self.scalar("<Q")
        if etype in _SCALARS and not keep:
            self.pos += struct.calcsize(_SCALARS[etype]) * count  # skip without decoding
            return count
        items = [self.value(etype, keep) for _ in range(count)]
        return items if keep else count


def read(path: str | os.PathLike[str]) -> ModelSizes:
    """The sizes of the GGUF model at ``path``; raises GGUFFormatError (a ValueError) or OSError."""
    path = Path(path)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        try:
            return _parse(path, buf)
        except struct.error as exc:
            raise GGUFFormatError(f"truncated GGUF header: {exc}") from None


def _parse(path: Path, buf: mmap.mmap) -> ModelSizes:
    r = _Reader(buf)
    if buf[:4] != b"GGUF":
        raise GGUFFormatError(f"{path} is not a GGUF file")
    r.pos = 4
    version = r.scalar("<I")
    if version not in (2, 3):
        raise GGUFFormatError(f"GGUF version {version} is not supported")
    n_tensors, n_kv = r.scalar("<Q"), r.scalar("<Q")
    meta: dict[str, Any] = {}
    for _ in range(n_kv):
        key = r.string()
        keep = bool(_WANTED.match(key))
        value = r.value(r.scalar("<I"), keep)
        if keep:
            meta[key] = value
    tensors: list[tuple[int, str, list[int]]] = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.scalar("<Q") for _ in range(r.scalar("<I"))]
        r.scalar("<I")  # ggml type: not needed, sizes come from the offsets
        tensors.append((r.scalar("<Q"), name, dims))
    align = int(meta.get("general.alignment", 32))
    data_start = -(-r.pos // align) * align
    data_len = len(buf) - data_start
    tensors.sort()
    sizes: dict[str, int] = {}
    for i, (offset, name, _dims) in enumerate(tensors):
        end = tensors[i + 1][0] if i + 1 < len(tensors) else data_len
        sizes[name] = max(0, end - offset)
    return _sizes(path, meta, sizes, {name: dims for _, name, dims in tensors})


def _sizes(path: Path, meta: dict[str, Any], sizes: dict[str, int],
           dims: dict[str, list[int]]) -> ModelSizes:
    arch = str(meta.get("general.architecture", ""))

    def num(key: str, default: int = 0) -> int:
        v = meta.get(f"{arch}.{key}", default)
        return int(max(v)) if isinstance(v, list) else int(v)  # per-layer arrays: the largest

    n_layer = num("block_count")
    n_embd = num("embedding_length")
    n_head = num("attention.head_count", 1) or 1
    n_head_kv = num("attention.head_count_kv", n_head) or n_head
    layer_bytes = [0] * n_layer
    for name, size in sizes.items():
        m = _BLOCK.match(name)
        if m and int(m.group(1)) < n_layer:
            layer_bytes[int(m.group(1))] += size
    input_bytes = sizes.get("token_embd.weight", 0)
    output_bytes = sizes.get("output.weight", input_bytes) + sizes.get("output_norm.weight", 0)
    embd_dims = dims.get("token_embd.weight", [])
    return ModelSizes(
        path=str(path), architecture=arch, n_layer=n_layer,
        n_ctx_train=num("context_length"), n_embd=n_embd, n_head=n_head, n_head_kv=n_head_kv,
        head_dim_k=num("attention.key_length", n_embd // n_head),
        head_dim_v=num("attention.value_length", n_embd // n_head),
        n_ff=num("feed_forward_length", 4 * n_embd),
        n_vocab=embd_dims[1] if len(embd_dims) > 1 else 0,
        layer_bytes=tuple(layer_bytes), output_bytes=output_bytes, input_bytes=input_bytes,
        total_bytes=sum(sizes.values()),
    )
