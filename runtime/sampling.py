"""SamplerChain: owns one llama.cpp sampler chain built from Ollama's options.

Order (llama-server's default, which Ollama uses): penalties, grammar, top_k, typical_p, top_p,
min_p, temperature, dist. Temperature 0 means greedy (after penalties and grammar).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._bindings import sampler as _s
from ._owner import Owner
from .errors import SamplerError
from .options import ResolvedOptions

if TYPE_CHECKING:
    from .context import Context
    from .model import Model


class SamplerChain(Owner):
    def __init__(self, model: Model, options: ResolvedOptions, *, grammar: str | None = None,
                 n_ctx: int | None = None) -> None:
        o = options
        if o.temperature < 0:
            raise SamplerError("temperature must be >= 0")
        if o.top_p <= 0 or o.top_p > 1 or o.typical_p <= 0 or o.min_p < 0 or o.min_p > 1:
            raise SamplerError("top_p and typical_p must be in (0, 1], min_p in [0, 1]")
        if o.repeat_penalty <= 0:
            raise SamplerError("repeat_penalty must be > 0")
        chain = _s.chain_new()
        self._own(chain, _s.free)
        self._depends_on(model)
        self._penalties = None  # borrowed from the chain: prompt tokens go to it alone
        self._n_vocab = model.tokenizer.n_vocab
        # temperature 0 with no penalties and no grammar is a plain argmax: done in C without
        # building llama.cpp's candidate array (same token as its greedy sampler)
        self.pure_greedy = False
        try:
            if o.repeat_penalty != 1.0 or o.frequency_penalty or o.presence_penalty:
                last_n = o.repeat_last_n if o.repeat_last_n >= 0 else (n_ctx or 4096)
                self._penalties = _s.add_penalties(chain, last_n, o.repeat_penalty,
                                                   o.frequency_penalty, o.presence_penalty)
            if grammar:
                _s.add_grammar(chain, model.tokenizer.vocab, grammar)
            if o.temperature == 0:
                _s.add_greedy(chain)
                self.pure_greedy = self._penalties is None and not grammar
            else:
                if o.top_k > 0:
                    _s.add_top_k(chain, o.top_k)
                if o.typical_p < 1.0:
                    _s.add_typical(chain, o.typical_p)
                if o.top_p < 1.0:
                    _s.add_top_p(chain, o.top_p)
                if o.min_p > 0.0:
                    _s.add_min_p(chain, o.min_p)
                _s.add_temp(chain, o.temperature)
                _s.add_dist(chain, o.seed)
        except BaseException:
            self.close()
            raise

    def sample(self, ctx: Context, idx: int) -> int:
        """Sample a token from output ``idx`` of the last decode; the chain accepts it."""
        if self.pure_greedy:
            self._live()
            return _s.argmax(ctx.handle, idx, self._n_vocab)
        return _s.sample(self._live(), ctx.handle, idx)

    def logprobs(self, ctx: Context, idx: int, token: int,
                 k: int) -> tuple[float, list[tuple[int, float]]]:
        """``token``'s log-probability at output ``idx`` and the ``k`` most likely tokens, from
        the model's logits (log-softmax, computed in C)."""
        self._live()
        return _s.logprobs(ctx.handle, idx, self._n_vocab, token, k)

    def accept_prompt(self, tokens: list[int]) -> None:
        """Feed prompt tokens into the penalty history only: a grammar must not see them (it
        would reject them), as in llama-server."""
        self._live()
        if self._penalties is not None:
            for t in tokens:
                _s.accept(self._penalties, t)

    def reset(self) -> None:
        _s.reset(self._live())
