"""From a request to engine events: resolve and hold the model, build the prompt, stream.

Shared by the Ollama and OpenAI routes. The lease on the model is held by the async generator, so
it ends when the stream ends or the client goes away (Starlette cancels the body, the generator
closes, the engine drops the sequence at its next step).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from llmrt.runtime.engine import EngineRequest, Final, Piece
from llmrt.runtime.grammars import JSON_GRAMMAR
from llmrt.runtime.options import Options
from llmrt.runtime.scheduler import Lease, Scheduler

from .errors import BadRequest


@dataclass(slots=True)
class Started:
    """First event: the model is loaded (or was)."""

    runner: Lease
    load_duration: int
    start_ns: int


@dataclass(slots=True)
class Done:
    final: Final
    total_duration: int
    load_duration: int
    context: list[int] = field(default_factory=list)


Event: TypeAlias = Started | Piece | Done


def grammar_for(fmt: str | dict[str, Any] | None) -> str | None:
    """Ollama's ``format``: "json" or a JSON schema object constrain output to JSON."""
    if fmt is None or fmt == "":
        return None
    if fmt == "json" or isinstance(fmt, dict):
        return JSON_GRAMMAR
    raise BadRequest(f"invalid format: {fmt!r}")


async def stream(scheduler: Scheduler, model: str, *, options: Options,
                 keep_alive: float | None, build_prompt: Any,
                 fmt: str | dict[str, Any] | None = None,
                 context: list[int] | None = None) -> AsyncGenerator[Event]:
    """Events of one generation. ``build_prompt(runner) -> str | None``: None means load only."""
    start = time.perf_counter_ns()
    grammar = grammar_for(fmt)
    async with scheduler.acquire(model, options, keep_alive) as runner:
        load_ns = time.perf_counter_ns() - start
        yield Started(runner, load_ns, start)
        prompt = build_prompt(runner)
        if prompt is None:
            return
        engine = runner.engine
        tokens = list(context or []) + await engine.tokenize(prompt)
        async for item in engine.generate(EngineRequest(prompt=tokens,
                                                        options=runner.options.resolved(),
                                                        grammar=grammar)):
            if isinstance(item, Piece):
                yield item
            else:
                yield Done(item, time.perf_counter_ns() - start, load_ns, tokens + item.tokens)


def render(runner: Lease, messages: list[dict[str, Any]],
           tools: list[Any] | None = None) -> str:
    """The chat prompt: the model's template, or its Modelfile TEMPLATE when it set one."""
    return runner.render(chat_messages(runner, messages), tools=tools)


def chat_messages(runner: Lease, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Modelfile MESSAGEs first; the Modelfile SYSTEM unless the chat brings its own."""
    spec = runner.spec
    out = [dict(m) for m in spec.messages] + messages
    if spec.system and not any(m.get("role") == "system" for m in out):
        out.insert(0, {"role": "system", "content": spec.system})
    return out
