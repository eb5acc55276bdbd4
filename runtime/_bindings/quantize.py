"""llama_model_quantize."""

from __future__ import annotations

from ..errors import QuantizeError
from ._lib import check, ffi, lib

FTYPES = {
    "f32": lib.LLAMA_FTYPE_ALL_F32, "f16": lib.LLAMA_FTYPE_MOSTLY_F16,
    "bf16": lib.LLAMA_FTYPE_MOSTLY_BF16,
    "q4_0": lib.LLAMA_FTYPE_MOSTLY_Q4_0, "q4_1": lib.LLAMA_FTYPE_MOSTLY_Q4_1,
    "q5_0": lib.LLAMA_FTYPE_MOSTLY_Q5_0, "q5_1": lib.LLAMA_FTYPE_MOSTLY_Q5_1,
    "q8_0": lib.LLAMA_FTYPE_MOSTLY_Q8_0,
    "q4_k_s": lib.LLAMA_FTYPE_MOSTLY_Q4_K_S, "q4_k_m": lib.LLAMA_FTYPE_MOSTLY_Q4_K_M,
    "q5_k_s": lib.LLAMA_FTYPE_MOSTLY_Q5_K_S, "q5_k_m": lib.LLAMA_FTYPE_MOSTLY_Q5_K_M,
    "q6_k": lib.LLAMA_FTYPE_MOSTLY_Q6_K,
}


def quantize(src: str, dst: str, ftype: str, n_threads: int = 0) -> None:
    key = ftype.lower()
    if key not in FTYPES:
        raise QuantizeError(f"unsupported quantization type {ftype!r}; "
                            f"supported: {', '.join(sorted(FTYPES))}")
    params = lib.llama_model_quantize_default_params()
    params.nthread = n_threads
    params.ftype = FTYPES[key]
    params.allow_requantize = True
    box = ffi.new("llama_model_quantize_params *", params)
    check(lib.llama_model_quantize(src.encode(), dst.encode(), box), f"quantize to {ftype}",
          QuantizeError)
