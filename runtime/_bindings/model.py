"""llama_model: load, free, metadata."""

from __future__ import annotations

from typing import Any

from ..errors import ModelLoadError
from ._lib import NULL, check_ptr, cstr, ffi, lib


def load(path: str, *, n_gpu_layers: int, use_mmap: bool, vocab_only: bool,
         devices: Any = None, main_gpu: int = 0) -> Any:
    """Load a GGUF file; return the ``llama_model *`` (the caller owns it)."""
    params = lib.llama_model_default_params()
    params.n_gpu_layers = n_gpu_layers
    params.vocab_only = vocab_only
    params.main_gpu = main_gpu
    params.load_mode = lib.LLAMA_LOAD_MODE_MMAP if use_mmap else lib.LLAMA_LOAD_MODE_NONE
    if devices is not None:
        params.devices = devices
    return check_ptr(lib.llama_model_load_from_file(path.encode(), params),
                     f"llama.cpp could not load {path!r}", ModelLoadError)


def free(model: Any) -> None:
    lib.llama_model_free(model)


def metadata(model: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    buf = ffi.new("char[]", 4096)
    for i in range(lib.llama_model_meta_count(model)):
        n = lib.llama_model_meta_key_by_index(model, i, buf, len(buf))
        if n < 0:
            continue
        key = ffi.string(buf).decode("utf-8", "replace")
        n = lib.llama_model_meta_val_str_by_index(model, i, buf, len(buf))
        if n >= len(buf):
            big = ffi.new("char[]", n + 1)
            lib.llama_model_meta_val_str_by_index(model, i, big, len(big))
            out[key] = ffi.string(big).decode("utf-8", "replace")
        elif n >= 0:
            out[key] = ffi.string(buf).decode("utf-8", "replace")
    return out


def description(model: Any) -> str:
    buf = ffi.new("char[]", 256)
    lib.llama_model_desc(model, buf, len(buf))
    return ffi.string(buf).decode("utf-8", "replace")


def chat_template(model: Any) -> str | None:
    p = lib.llama_model_chat_template(model, NULL)
    return None if p == NULL else cstr(p)


def ftype_name(model: Any, file_type: int | None = None) -> str:
    """The quantization label: from GGUF ``general.file_type`` when given (vocab-only models
    have no tensors to infer it from), else llama.cpp's reading of the tensors."""
    code = lib.llama_model_ftype(model) if file_type is None else file_type
    return cstr(lib.llama_ftype_name(code))


def dims(model: Any, vocab_only: bool = False) -> dict[str, int]:
    """Sizes of a model. A vocab-only model has no layers: llama.cpp asserts (aborting the
    process) on per-layer queries there, so only what is safe is asked."""
    if vocab_only:
        return {"n_ctx_train": lib.llama_model_n_ctx_train(model), "n_embd": 0, "n_layer": 0,
                "n_head": 0, "n_head_kv": 0, "size": 0, "n_params": 0, "has_encoder": 0}
    return {
        "n_ctx_train": lib.llama_model_n_ctx_train(model),
        "n_embd": lib.llama_model_n_embd(model),
        "n_layer": lib.llama_model_n_layer(model),
        "n_head": lib.llama_model_n_head(model),
        "n_head_kv": lib.llama_model_n_head_kv(model),
        "size": lib.llama_model_size(model),
        "n_params": lib.llama_model_n_params(model),
        "has_encoder": int(lib.llama_model_has_encoder(model)),
    }


def vocab(model: Any) -> Any:
    return lib.llama_model_get_vocab(model)
