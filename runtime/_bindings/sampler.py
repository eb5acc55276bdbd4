"""llama_sampler chains built from llama.cpp's C samplers."""

from __future__ import annotations

from typing import Any

from ..errors import SamplerError
from ._lib import NULL, check_ptr, ffi, lib


def chain_new() -> Any:
    params = lib.llama_sampler_chain_default_params()
    params.no_perf = True
    return check_ptr(lib.llama_sampler_chain_init(params), "llama_sampler_chain_init",
                     SamplerError)


def free(chain: Any) -> None:
    lib.llama_sampler_free(chain)


def _add(chain: Any, smpl: Any, what: str) -> Any:
    """Append a sampler to the chain, which then owns it; return the (borrowed) sampler."""
    lib.llama_sampler_chain_add(chain, check_ptr(smpl, what, SamplerError))
    return smpl


def add_penalties(chain: Any, last_n: int, repeat: float, freq: float, present: float) -> Any:
    return _add(chain, lib.llama_sampler_init_penalties(0, last_n, repeat, freq, present),
                "penalties")


def add_logit_bias(chain: Any, n_vocab: int, bias: dict[int, float]) -> None:
    arr = ffi.new("llama_logit_bias[]", len(bias))
    for i, (tok, b) in enumerate(bias.items()):
        arr[i].token = tok
        arr[i].bias = b
    _add(chain, lib.llama_sampler_init_logit_bias(n_vocab, len(bias), arr), "logit_bias")


def add_grammar(chain: Any, vocab: Any, grammar: str, root: str = "root") -> None:
    smpl = lib.llama_sampler_init_grammar(vocab, grammar.encode(), root.encode())
    if smpl == NULL:
        raise SamplerError("the grammar could not be parsed")
    lib.llama_sampler_chain_add(chain, smpl)


def add_top_k(chain: Any, k: int) -> None:
    _add(chain, lib.llama_sampler_init_top_k(k), "top_k")


def add_top_p(chain: Any, p: float) -> None:
    _add(chain, lib.llama_sampler_init_top_p(p, 1), "top_p")


def add_min_p(chain: Any, p: float) -> None:
    _add(chain, lib.llama_sampler_init_min_p(p, 1), "min_p")


def add_typical(chain: Any, p: float) -> None:
    _add(chain, lib.llama_sampler_init_typical(p, 1), "typical_p")


def add_temp(chain: Any, t: float) -> None:
    _add(chain, lib.llama_sampler_init_temp(t), "temperature")


def add_dist(chain: Any, seed: int) -> None:
    _add(chain, lib.llama_sampler_init_dist(seed & 0xFFFFFFFF), "dist")


def add_greedy(chain: Any) -> None:
    _add(chain, lib.llama_sampler_init_greedy(), "greedy")


def sample(chain: Any, ctx: Any, idx: int) -> int:
    """Sample from output ``idx`` of the last decode (also accepts the token into the chain)."""
    return lib.llama_sampler_sample(chain, ctx, idx)


def argmax(ctx: Any, idx: int, n_vocab: int) -> int:
    """Greedy pick from output ``idx`` of the last decode, computed in C."""
    token = lib.llmrt_argmax_logits(ctx, idx, n_vocab)
    if token < 0:
        raise SamplerError(f"no logits for output {idx}")
    return token


def logprobs(ctx: Any, idx: int, n_vocab: int, token: int,
             k: int) -> tuple[float, list[tuple[int, float]]]:
    """log-softmax of output ``idx``'s logits, in C: ``token``'s logprob and the ``k`` most
    likely (token, logprob) pairs, best first."""
    ids = ffi.new("int32_t[]", max(k, 1))
    lps = ffi.new("float[]", max(k, 1))
    token_lp = ffi.new("float *")
    n = lib.llmrt_logprobs(ctx, idx, n_vocab, token, k, ids, lps, token_lp)
    if n < 0:
        raise SamplerError(f"no logits for output {idx}")
    return token_lp[0], [(ids[i], lps[i]) for i in range(n)]


def accept(chain: Any, token: int) -> None:
    lib.llama_sampler_accept(chain, token)


def reset(chain: Any) -> None:
    lib.llama_sampler_reset(chain)
