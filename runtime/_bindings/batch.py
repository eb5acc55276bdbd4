"""llama_batch: allocate, fill, free. The struct is held in a ``llama_batch *`` box."""

from __future__ import annotations

from typing import Any

from ..errors import DecodeError
from ._lib import ffi, lib


def new(capacity: int, n_seq_max: int) -> Any:
    box = ffi.new("llama_batch *")
    box[0] = lib.llama_batch_init(capacity, 0, n_seq_max)
    if box.token == ffi.NULL:
        raise DecodeError(f"llama_batch_init({capacity}) failed")
    return box


def free(box: Any) -> None:
    lib.llama_batch_free(box[0])


def clear(box: Any) -> None:
    box.n_tokens = 0


def add(box: Any, token: int, pos: int, seq_id: int, output: bool) -> int:
    """Append one token; return its index in the batch."""
    i = box.n_tokens
    box.token[i] = token
    box.pos[i] = pos
    box.n_seq_id[i] = 1
    box.seq_id[i][0] = seq_id
    box.logits[i] = output
    box.n_tokens = i + 1
    return i


def add_run(box: Any, tokens: list[int], pos0: int, seq_id: int, last_output: bool) -> int:
    """Append a run of tokens of one sequence at consecutive positions; return the last index."""
    i0 = box.n_tokens
    n = len(tokens)
    ffi.memmove(box.token + i0, ffi.new("llama_token[]", tokens), 4 * n)
    pos, n_seq, seq, out = box.pos, box.n_seq_id, box.seq_id, box.logits
    for j in range(n):
        pos[i0 + j] = pos0 + j
        n_seq[i0 + j] = 1
        seq[i0 + j][0] = seq_id
        out[i0 + j] = 0
    if last_output and n:
        out[i0 + n - 1] = 1
    box.n_tokens = i0 + n
    return i0 + n - 1


def size(box: Any) -> int:
    return box.n_tokens
