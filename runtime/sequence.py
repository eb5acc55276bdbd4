"""Per-sequence generation state of the in-process engine (runtime/engine/inprocess.py).

A Sequence turns sampled tokens into text: its own sampler chain, a UTF-8-safe piece decoder,
stop-string matching and Ollama's counters. It never calls llama_decode; its owner does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .engine.base import TokenLogprob
from .options import ResolvedOptions
from .sampling import SamplerChain
from .stops import StopMatcher

if TYPE_CHECKING:
    from .context import Context
    from .model import Model


class Sequence:
    def __init__(self, model: Model, options: ResolvedOptions, *, n_ctx: int,
                 grammar: str | None = None, logprobs: int = -1) -> None:
        self.tokenizer = model.tokenizer
        self.chain = SamplerChain(model, options, grammar=grammar, n_ctx=n_ctx)
        self.limit = options.num_predict if options.num_predict >= 0 else n_ctx
        self.stops = StopMatcher(options.stop)
        self.decoder = self.tokenizer.decoder()
        self.tokens: list[int] = []
        self.done_reason: str | None = None
        self.n_logprobs = logprobs
        self._logprobs: list[TokenLogprob] = []

    def accept_prompt(self, prompt: list[int]) -> None:
        """Let the penalty samplers see the prompt, as llama-server does."""
        self.chain.accept_prompt(prompt)

    def sample(self, ctx: Context, idx: int) -> int:
        token = self.chain.sample(ctx, idx)
        if self.n_logprobs >= 0 and not self.tokenizer.is_eog(token):
            lp, top = self.chain.logprobs(ctx, idx, token, self.n_logprobs)
            piece = self.tokenizer.piece
            self._logprobs.append(TokenLogprob(token, piece(token), lp,
                                               [(t, piece(t), v) for t, v in top]))
        return token

    def take_logprobs(self) -> list[TokenLogprob] | None:
        """The logprobs recorded since the last call (None when none were asked for)."""
        if self.n_logprobs < 0:
            return None
        out, self._logprobs = self._logprobs, []
        return out

    def push(self, token: int) -> str:
        """Account for a sampled token; return the text it releases. Sets ``done_reason`` when
        the sequence is finished (end of generation, a stop string, or the token limit)."""
        if self.tokenizer.is_eog(token):
            self.done_reason = "stop"
            return self._release()
        self.tokens.append(token)
        text, hit = self.stops.push(self.decoder.feed(token))
        if hit:
            self.done_reason = "stop"
            return text
        if len(self.tokens) >= self.limit:
            self.done_reason = "length"
            return text + self._release()
        return text

    def finish(self, reason: str) -> str:
        """End early (context full): set the reason and release held-back text."""
        self.done_reason = reason
        return self._release()

    def _release(self) -> str:
        text, hit = self.stops.push(self.decoder.flush())
        return text if hit else text + self.stops.flush()

    def close(self) -> None:
        self.chain.close()
