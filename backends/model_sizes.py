"""Read the sizes placement needs from a GGUF file's header, without loading the model.

A GGUF file is a header (magic, version, key/value metadata, tensor infos) followed by aligned
tensor data. Only the header is parsed; a tensor's size is the distance to the next tensor's
offset (the last one runs to the end of the file), so no table of quantization block sizes is
needed and new quant types cost nothing. Alignment padding (at most ``general.alignment - 1``
bytes per tensor) is counted with the tensor, which errs on the safe side.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from llmrt.runtime.gguf import read_header

from .types import ModelSizes

#: raised for a file that is not a GGUF this reader understands (a ValueError)

_WANTED = re.compile(r"^(general\.(architecture|alignment)|[^.]+\.(block_count|context_length|"
                     r"embedding_length|feed_forward_length|attention\.(head_count|head_count_kv|"
                     r"key_length|value_length)))$")
_BLOCK = re.compile(r"^blk\.(\d+)\.")


def read(path: str | os.PathLike[str]) -> ModelSizes:
    """The sizes of the GGUF model at ``path``; raises GGUFError (a ValueError) or OSError.

    A tensor's size is the distance to the next tensor's offset (``GGUFHeader.tensor_bytes``),
    so no table of quantization block sizes is needed and new quant types cost nothing."""
    header = read_header(path, max_array=1 << 20, keep=lambda key: bool(_WANTED.match(key)))
    dims = {t.name: list(t.dims) for t in header.tensors}
    return _sizes(Path(path), header.metadata, header.tensor_bytes(), dims)


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
