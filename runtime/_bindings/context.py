"""llama_context: create, decode, outputs, KV memory, abort flag, perf counters."""

from __future__ import annotations

from typing import Any

from ..errors import Cancelled, ContextError, ContextOverflow, DecodeError
from ._lib import NULL, check_ptr, ffi, lib

POOLING = {
    "unspecified": lib.LLAMA_POOLING_TYPE_UNSPECIFIED, "none": lib.LLAMA_POOLING_TYPE_NONE,
    "mean": lib.LLAMA_POOLING_TYPE_MEAN, "cls": lib.LLAMA_POOLING_TYPE_CLS,
    "last": lib.LLAMA_POOLING_TYPE_LAST,
}
FLASH_ATTN = {None: lib.LLAMA_FLASH_ATTN_TYPE_AUTO, True: lib.LLAMA_FLASH_ATTN_TYPE_ENABLED,
              False: lib.LLAMA_FLASH_ATTN_TYPE_DISABLED}


def new_abort_flag() -> Any:
    """An int the abort callback polls; set flag[0] = 1 to stop the current decode."""
    return ffi.new("int *")


def create(model: Any, *, n_ctx: int, n_batch: int, n_ubatch: int, n_seq_max: int,
           n_threads: int, n_threads_batch: int, embeddings: bool, pooling: str,
           flash_attn: bool | None, kv_unified: bool, abort_flag: Any) -> Any:
    p = lib.llama_context_default_params()
    p.n_ctx = n_ctx
    p.n_batch = n_batch
    p.n_ubatch = n_ubatch
    p.n_seq_max = n_seq_max
    p.n_threads = n_threads
    p.n_threads_batch = n_threads_batch
    p.embeddings = embeddings
    p.pooling_type = POOLING[pooling]
    p.flash_attn_type = FLASH_ATTN[flash_attn]
    p.kv_unified = kv_unified
    p.no_perf = False
    p.abort_callback = lib.llmrt_abort_if_flag
    p.abort_callback_data = abort_flag
    return check_ptr(lib.llama_init_from_model(model, p),
                     f"llama_init_from_model(n_ctx={n_ctx}, n_seq_max={n_seq_max})", ContextError)


def free(ctx: Any) -> None:
    lib.llama_free(ctx)


def sizes(ctx: Any) -> dict[str, int]:
    return {"n_ctx": lib.llama_n_ctx(ctx), "n_batch": lib.llama_n_batch(ctx),
            "n_ubatch": lib.llama_n_ubatch(ctx), "n_seq_max": lib.llama_n_seq_max(ctx)}


def pooling_type(ctx: Any) -> int:
    return lib.llama_pooling_type(ctx)


def decode(ctx: Any, batch: Any) -> None:
    """llama_decode; 1 = no KV slot (context full), 2 = aborted, <0 = error."""
    rc = lib.llama_decode(ctx, batch[0])
    if rc == 0:
        return
    if rc == 1:
        raise ContextOverflow("no room left in the context (KV cache full)")
    if rc == 2:
        raise Cancelled("decode aborted")
    raise DecodeError(f"llama_decode failed (code {rc})")


def logits(ctx: Any, i: int, n_vocab: int) -> list[float]:
    p = check_ptr(lib.llama_get_logits_ith(ctx, i), "llama_get_logits_ith", DecodeError)
    return ffi.unpack(p, n_vocab)


def embeddings_seq(ctx: Any, seq_id: int, n: int) -> list[float]:
    p = lib.llama_get_embeddings_seq(ctx, seq_id)
    if p == NULL:
        raise DecodeError("no pooled embeddings for this sequence")
    return ffi.unpack(p, n)


def memory_clear(ctx: Any) -> None:
    lib.llama_memory_clear(lib.llama_get_memory(ctx), True)


def memory_seq_rm(ctx: Any, seq_id: int, p0: int, p1: int) -> bool:
    return bool(lib.llama_memory_seq_rm(lib.llama_get_memory(ctx), seq_id, p0, p1))


def memory_seq_add(ctx: Any, seq_id: int, p0: int, p1: int, delta: int) -> None:
    lib.llama_memory_seq_add(lib.llama_get_memory(ctx), seq_id, p0, p1, delta)


def memory_can_shift(ctx: Any) -> bool:
    return bool(lib.llama_memory_can_shift(lib.llama_get_memory(ctx)))


def memory_seq_pos_max(ctx: Any, seq_id: int) -> int:
    return lib.llama_memory_seq_pos_max(lib.llama_get_memory(ctx), seq_id)


def perf(ctx: Any) -> dict[str, float]:
    d = lib.llama_perf_context(ctx)
    return {"t_load_ms": d.t_load_ms, "t_p_eval_ms": d.t_p_eval_ms, "t_eval_ms": d.t_eval_ms,
            "n_p_eval": d.n_p_eval, "n_eval": d.n_eval}


def perf_reset(ctx: Any) -> None:
    lib.llama_perf_context_reset(ctx)
