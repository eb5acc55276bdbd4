"""The library API: ``AsyncLLM`` over the in-process engine, and ``LLM``, its synchronous adapter.

    import llmrt
    with llmrt.load("smollm2:135m") as llm:
        print(llm.generate("Why is the sky blue?", num_predict=32).text)
        for piece in llm.chat([{"role": "user", "content": "Hi"}], stream=True):
            print(piece, end="")

    async with await llmrt.AsyncLLM.load("smollm2:135m") as llm:
        async for piece in await llm.generate("Hi", stream=True):
            print(piece, end="")

There is one token producer: the engine the server uses (runtime/engine/inprocess.py), with its
prefix reuse, context checks and cancellation. ``AsyncLLM`` submits to it from the caller's event
loop; ``LLM`` runs an ``AsyncLLM`` on an event loop of its own in a background thread (an anyio
blocking portal), so that synchronous code needs no loop.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from typing import Any

import anyio.from_thread

from llmrt import backends

from . import loader
from .chat import ChatTemplate
from .engine.base import EngineRequest, Final, Piece, TokenLogprob
from .engine.inprocess import InProcessEngine
from .errors import Cancelled
from .model import Model
from .options import Options


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
    #: prompt tokens + generated tokens (Ollama's deprecated ``context``)
    context: list[int] = field(default_factory=list)
    #: per generated token, when ``logprobs`` was asked for
    logprobs: list[TokenLogprob] = field(default_factory=list)
    #: tokens dropped from the context by context shifts (0: none)
    shifted: int = 0


class AsyncGeneration:
    """An async iterator of text pieces; ``result`` holds the final record once it is exhausted.
    Leaving it early (``aclose()``, or cancelling the task that iterates it) cancels the
    sequence, and stops its prompt's decode if that is still running."""

    def __init__(self, pieces: AsyncIterator[str], result: GenerationResult) -> None:
        self._pieces = pieces
        self.result = result

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces

    async def __anext__(self) -> str:
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        aclose = getattr(self._pieces, "aclose", None)
        if aclose is not None:
            await aclose()


class Generation:
    """An iterator of text pieces; ``result`` holds the final record once it is exhausted."""

    def __init__(self, pieces: Iterator[str], result: GenerationResult) -> None:
        self._pieces = pieces
        self.result = result

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def __next__(self) -> str:
        return next(self._pieces)


class AsyncLLM:
    """A loaded model on the in-process engine, used from an asyncio event loop."""

    def __init__(self, engine: InProcessEngine, *, defaults: Options | None = None,
                 load_duration: int = 0) -> None:
        """Wrap a running engine; ``AsyncLLM.load`` is the usual way in."""
        self.engine = engine
        self.defaults = defaults or Options()
        self.load_duration = load_duration

    @classmethod
    async def load(cls, model: str | os.PathLike[str], **kw: Any) -> AsyncLLM:
        """Load a GGUF path or a model name (in a worker thread: llama calls never run on the
        event loop). Keywords as ``LLM``'s."""
        return await anyio.to_thread.run_sync(functools.partial(_load, cls, model, **kw))

    @property
    def model(self) -> Model:
        return self.engine.model

    @property
    def template(self) -> ChatTemplate:
        return self.engine.template

    async def tokenize(self, text: str) -> list[int]:
        """Tokens of a prompt as llama-server tokenizes it (specials added and parsed)."""
        return await self.engine.tokenize(text)

    def render(self, messages: list[dict[str, Any]], **kw: Any) -> str:
        """The chat template applied to ``messages``, with the generation prompt."""
        return self.template.render(messages, add_generation_prompt=True, **kw)

    async def generate(self, prompt: str | list[int], *, stream: bool = False,
                       grammar: str | None = None, logprobs: int | None = None,
                       shift: bool = True, options: dict[str, Any] | None = None,
                       **opts: Any) -> GenerationResult | AsyncGeneration:
        """Complete ``prompt`` (text, or tokens used as they are). ``stream=True`` returns an
        AsyncGeneration of text pieces whose ``.result`` is filled at the end; otherwise the
        finished GenerationResult. ``logprobs=k`` records each generated token's
        log-probability and its ``k`` most likely alternatives in ``result.logprobs``.
        ``shift`` (default true, as Ollama): a full context drops its oldest tokens after
        ``num_keep`` and goes on (``result.shifted`` counts them); False stops ("length")."""
        start = time.perf_counter_ns()
        merged = self.defaults.merge(Options.from_dict({**(options or {}), **opts})).resolved()
        tokens = await self.tokenize(prompt) if isinstance(prompt, str) else list(prompt)
        request = EngineRequest(prompt=tokens, options=merged, grammar=grammar,
                                logprobs=-1 if logprobs is None else max(0, logprobs),
                                shift=shift)
        result = GenerationResult(load_duration=self.load_duration)
        pieces = self._run(request, result, start)
        gen = AsyncGeneration(pieces, result)
        if stream:
            return gen
        async for _ in gen:
            pass
        return result

    async def chat(self, messages: list[dict[str, Any]], *, stream: bool = False,
                   **kw: Any) -> GenerationResult | AsyncGeneration:
        return await self.generate(self.render(messages), stream=stream, **kw)

    async def embed(self, texts: str | list[str], *, normalized: bool = True,
                    truncate: bool = True) -> list[list[float]]:
        items = [texts] if isinstance(texts, str) else list(texts)
        vectors, _ = await self.engine.embed(items, truncate=truncate, normalized=normalized)
        return vectors

    async def _run(self, request: EngineRequest, result: GenerationResult,
                   start: int) -> AsyncIterator[str]:
        out: list[str] = []
        async for item in self.engine.generate(request):
            if isinstance(item, Piece):
                out.append(item.text)
                result.logprobs.extend(item.logprobs or ())
                yield item.text
            elif isinstance(item, Final):
                result.logprobs.extend(item.logprobs or ())
                _fill(result, item, request.prompt, "".join(out))
                result.total_duration = time.perf_counter_ns() - start + result.load_duration

    async def aclose(self) -> None:
        await self.engine.close()

    async def __aenter__(self) -> AsyncLLM:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class LLM:
    """A loaded model for synchronous code: an ``AsyncLLM`` on a private event loop thread."""

    def __init__(self, model: str | os.PathLike[str], *, num_ctx: int = 4096,
                 num_batch: int = 512, num_thread: int | None = None,
                 flash_attn: bool | None = None, backend: str | None = None,
                 num_parallel: int = 1, adapters: list[tuple[str, float]] | None = None,
                 **defaults: Any) -> None:
        """Load a GGUF path or a model name. ``num_ctx`` tokens of context per sequence,
        ``num_parallel`` sequences generated together (threads that share one LLM);
        ``adapters``: (GGUF LoRA path, scale) pairs applied to the model;
        ``backend`` names the backend plugin to run on (``"vulkan"``, ``"cpu"``), None leaves
        it to ``LLMRT_BACKEND``, else the automatic choice. Other keywords are default
        generation options (Ollama's names)."""
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
            anyio.from_thread.start_blocking_portal())
        self._portal = self._portal_cm.__enter__()
        try:
            self._llm: AsyncLLM = self._portal.call(functools.partial(
                AsyncLLM.load, model, num_ctx=num_ctx, num_batch=num_batch,
                num_thread=num_thread, flash_attn=flash_attn, backend=backend,
                num_parallel=num_parallel, adapters=adapters, **defaults))
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise
        self._closed = False

    @property
    def engine(self) -> InProcessEngine:
        return self._llm.engine

    @property
    def model(self) -> Model:
        return self._llm.model

    @property
    def template(self) -> ChatTemplate:
        return self._llm.template

    @property
    def defaults(self) -> Options:
        return self._llm.defaults

    @property
    def load_duration(self) -> int:
        return self._llm.load_duration

    def tokenize(self, text: str) -> list[int]:
        """Tokens of a prompt as llama-server tokenizes it (specials added and parsed)."""
        return self.model.tokenizer.encode_prompt(text)

    def render(self, messages: list[dict[str, Any]], **kw: Any) -> str:
        return self._llm.render(messages, **kw)

    def generate(self, prompt: str | list[int], *, stream: bool = False,
                 grammar: str | None = None, cancel: threading.Event | None = None,
                 options: dict[str, Any] | None = None,
                 **opts: Any) -> GenerationResult | Generation:
        """Complete ``prompt`` (text, or tokens used as they are). ``stream=True`` returns an
        iterator of text pieces whose ``.result`` is filled at the end; otherwise the finished
        GenerationResult. Setting ``cancel`` (from any thread) stops the generation, its
        prompt's decode included, and raises ``Cancelled``."""
        agen = self._call(functools.partial(self._llm.generate, prompt, stream=True,
                                            grammar=grammar, options=options, **opts))
        assert isinstance(agen, AsyncGeneration)
        gen = Generation(self._pieces(agen, cancel), agen.result)
        if stream:
            return gen
        for _ in gen:
            pass
        return gen.result

    def chat(self, messages: list[dict[str, Any]], *, stream: bool = False,
             **kw: Any) -> GenerationResult | Generation:
        return self.generate(self.render(messages), stream=stream, **kw)

    def embed(self, texts: str | list[str], *, normalized: bool = True,
              truncate: bool = True) -> list[list[float]]:
        return self._call(functools.partial(self._llm.embed, texts, normalized=normalized,
                                            truncate=truncate))

    def _pieces(self, agen: AsyncGeneration, cancel: threading.Event | None) -> Iterator[str]:
        try:
            while True:
                try:
                    yield self._call(functools.partial(_next_piece, agen, cancel))
                except StopAsyncIteration:
                    return
        finally:  # the consumer left early (or an error): cancel the sequence
            if not self._closed:
                self._call(agen.aclose)

    def _call(self, fn: Callable[[], Any]) -> Any:
        if self._closed:
            raise RuntimeError("this LLM is closed")
        return self._portal.call(fn)

    def close(self) -> None:
        """Stop the engine and free the model. Idempotent."""
        if self._closed:
            return
        try:
            self._portal.call(self._llm.aclose)
        finally:
            self._closed = True
            self._portal_cm.__exit__(None, None, None)

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load(model: str | os.PathLike[str], **kw: Any) -> LLM:
    """Load a GGUF path or a model name (``smollm2:135m``, ``gemma3:270m``) for sync code."""
    return LLM(model, **kw)


def _load(cls: type[AsyncLLM], model: str | os.PathLike[str], *, num_ctx: int = 4096,
          num_batch: int = 512, num_thread: int | None = None, flash_attn: bool | None = None,
          backend: str | None = None, num_parallel: int = 1,
          adapters: list[tuple[str, float]] | None = None, **defaults: Any) -> AsyncLLM:
    t0 = time.perf_counter_ns()
    # the one resolver (a path, a store name, a bundled default) and the one placement
    spec = loader.resolve(model)
    parallel = max(1, num_parallel)
    plan = backends.place(spec.path, num_ctx=num_ctx, parallel=parallel, backend=backend)
    loras = [(str(p), 1.0) for p in spec.adapters]  # the Modelfile's ADAPTERs
    loras += [(str(p), float(sc)) for p, sc in adapters or ()]
    engine = InProcessEngine(spec.path, num_ctx=num_ctx, num_parallel=parallel,
                             num_batch=num_batch, num_thread=num_thread, flash_attn=flash_attn,
                             placement=plan, adapters=loras)
    # request options over the caller's defaults over the Modelfile's PARAMETERs
    return cls(engine, defaults=spec.options.merge(Options.from_dict(defaults)),
               load_duration=time.perf_counter_ns() - t0)


def _fill(result: GenerationResult, final: Final, prompt: list[int], text: str) -> None:
    result.text = text
    result.tokens = list(final.tokens)
    result.done_reason = final.done_reason
    result.prompt_eval_count = final.prompt_eval_count
    result.prompt_eval_duration = final.prompt_eval_duration
    result.eval_count = final.eval_count
    result.eval_duration = final.eval_duration
    result.context = prompt + result.tokens
    result.shifted = final.shifted


async def _next_piece(agen: AsyncGeneration, cancel: threading.Event | None) -> str:
    """The next piece; with ``cancel``, watch it meanwhile (every 10 ms) and, once set, cancel
    the sequence (the engine stops its decode) and raise Cancelled."""
    if cancel is None:
        return await agen.__anext__()
    if cancel.is_set():
        await agen.aclose()
        raise Cancelled("generation cancelled")
    task = asyncio.ensure_future(agen.__anext__())
    while not task.done():
        await asyncio.wait({task}, timeout=0.01)
        if cancel.is_set() and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            raise Cancelled("generation cancelled")
    return task.result()
