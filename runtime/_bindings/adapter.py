"""llama_adapter_lora: load against a model, apply to a context with scales."""

from __future__ import annotations

from typing import Any

from ..errors import ModelLoadError
from ._lib import check_ptr, ffi, lib


def load(model: Any, path: str) -> Any:
    return check_ptr(lib.llama_adapter_lora_init(model, path.encode()),
                     f"llama_adapter_lora_init({path})", ModelLoadError)


def free(adapter: Any) -> None:
    lib.llama_adapter_lora_free(adapter)


def apply(ctx: Any, adapters: list[tuple[Any, float]]) -> None:
    """Set exactly these adapters (with their scales) on the context; [] removes all."""
    arr = ffi.new("struct llama_adapter_lora *[]", [a for a, _ in adapters] or [ffi.NULL])
    scales = ffi.new("float[]", [s for _, s in adapters] or [0.0])
    rc = lib.llama_set_adapters_lora(ctx, arr, len(adapters), scales)
    if rc != 0:
        raise ModelLoadError(f"llama_set_adapters_lora failed (code {rc})")
