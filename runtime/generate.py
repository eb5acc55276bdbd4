"""Single-sequence generation over a Context, with Ollama's counters and prompt-prefix reuse.

``Session`` owns the tokens cached in its context's sequence 0: a new prompt sharing a prefix
with them (the next turn of a chat) only evaluates what is new.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from .batch import Batch
from .context import Context
from .errors import Cancelled, ContextOverflow
from .options import ResolvedOptions
from .sequence import Sequence


@dataclass(slots=True)
class GenerationResult:
    """The final record, with Ollama's counters (durations in nanoseconds)."""

    text: str = ""
    tokens: list[int] = field(default_factory=list)
    done_reason: str = "stop"
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    load_duration: int = 0
    total_duration: int = 0
    context: list[int] = field(default_factory=list)


class Generation:
    """An iterator of text pieces; ``result`` holds the final record once it is exhausted."""

    def __init__(self, pieces: Iterator[str], result: GenerationResult) -> None:
        self._pieces = pieces
        self.result = result

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def __next__(self) -> str:
        return next(self._pieces)


class Session:
    """Generates on sequence 0 of ``ctx``, reusing the KV cells of a shared prompt prefix."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.model = ctx.model
        self.cached: list[int] = []
        self._batch = Batch(ctx.n_batch, 1)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._batch.close()

    def generate(self, prompt_tokens: list[int], options: ResolvedOptions, *,
                 grammar: str | None = None, cancel: threading.Event | None = None,
                 load_duration: int = 0) -> Generation:
        result = GenerationResult(load_duration=load_duration)
        return Generation(self._run(prompt_tokens, options, grammar, cancel, result), result)

    def _run(self, prompt: list[int], o: ResolvedOptions, grammar: str | None,
             cancel: threading.Event | None, result: GenerationResult) -> Iterator[str]:
        start = time.perf_counter_ns()
        ctx = self.ctx
        if not prompt:
            raise ValueError("empty prompt")
        if len(prompt) >= ctx.n_ctx:
            raise ContextOverflow(f"the prompt is {len(prompt)} tokens; the context holds "
                                  f"{ctx.n_ctx}")
        seq = Sequence(self.model, o, n_ctx=ctx.n_ctx, grammar=grammar)
        with self._lock:
            try:
                ctx.clear_abort()
                n_keep = self._reuse_prefix(prompt)
                seq.accept_prompt(prompt)
                t0 = time.perf_counter_ns()
                idx = self._eval(prompt[n_keep:], n_keep)
                t1 = time.perf_counter_ns()
                result.prompt_eval_count = len(prompt) - n_keep
                result.prompt_eval_duration = t1 - t0
                pos = len(prompt)
                out: list[str] = []
                while seq.done_reason is None:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("generation cancelled")
                    text = seq.push(seq.sample(ctx, idx))
                    if seq.done_reason is None and pos >= ctx.n_ctx:
                        text += seq.finish("length")
                    if text:
                        out.append(text)
                        yield text
                    if seq.done_reason is None:
                        self._batch.clear()
                        idx = self._batch.add(seq.tokens[-1], pos, 0, True)
                        ctx.decode(self._batch)
                        self.cached.append(seq.tokens[-1])
                        pos += 1
                result.eval_duration = time.perf_counter_ns() - t1
            except BaseException:
                self._forget()
                raise
            finally:
                seq.close()
        result.tokens = seq.tokens
        result.eval_count = len(seq.tokens)
        result.done_reason = seq.done_reason or "stop"
        result.text = "".join(out)
        result.context = prompt + seq.tokens
        result.total_duration = time.perf_counter_ns() - start + result.load_duration

    def _reuse_prefix(self, prompt: list[int]) -> int:
        """Keep the cached cells shared with ``prompt``; return how many tokens they cover."""
        n = 0
        limit = min(len(self.cached), len(prompt) - 1)  # always evaluate >= 1 token for logits
        while n < limit and self.cached[n] == prompt[n]:
            n += 1
        if n < len(self.cached) and not self.ctx.seq_rm(0, n, -1):
            self.ctx.seq_rm(0, -1, -1)
            n = 0
        self.cached = self.cached[:n]
        return n

    def _eval(self, tokens: list[int], pos0: int) -> int:
        """Decode ``tokens`` from ``pos0`` in n_batch chunks; return the last output index."""
        step = self.ctx.n_batch
        idx = 0
        for i in range(0, len(tokens), step):
            chunk = tokens[i:i + step]
            self._batch.clear()
            idx = self._batch.add_run(chunk, pos0 + i, 0, last_output=i + step >= len(tokens))
            try:
                self.ctx.decode(self._batch)
            except BaseException:
                self._forget()
                raise
            self.cached.extend(chunk)
        return idx

    def _forget(self) -> None:
        self.ctx.seq_rm(0, -1, -1)
        self.cached = []
        self.ctx.clear_abort()
