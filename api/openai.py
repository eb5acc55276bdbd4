"""OpenAI-compatible /v1 routes: chat completions, completions, embeddings, models."""

from __future__ import annotations

import base64
import random
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from llmrt.runtime.engine import Piece
from llmrt.runtime.errors import ModelNotFound
from llmrt.runtime.options import Options
from llmrt.runtime.scheduler import Lease
from llmrt.runtime.store import ModelEntry
from llmrt.runtime.vectors import normalize
from starlette.requests import Request
from starlette.responses import Response

from .completion import Done, render, stream
from .errors import BadRequest
from .requests import body, catalog_of, scheduler_of
from .schema.openai import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessageOut,
    Choice,
    ChunkChoice,
    CompletionRequest,
    Delta,
    EmbeddingItem,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    ModelCard,
    ModelList,
    SamplingRequest,
    TextChoice,
    TextCompletion,
    Usage,
)
from .streaming import json_response, peek, sse

FINGERPRINT = "fp_llmrt"


def _options(req: SamplingRequest, max_tokens: int | None) -> Options:
    opts: dict[str, Any] = {
        # OpenAI's defaults differ from Ollama's: temperature 1.0 and top_p 1.0 when absent
        "temperature": 1.0 if req.temperature is None else req.temperature,
        "top_p": 1.0 if req.top_p is None else req.top_p,
    }
    if max_tokens is not None:
        opts["num_predict"] = max_tokens
    if req.seed is not None:
        opts["seed"] = req.seed
    if req.stop is not None:
        opts["stop"] = [req.stop] if isinstance(req.stop, str) else req.stop
    if req.frequency_penalty is not None:
        opts["frequency_penalty"] = req.frequency_penalty
    if req.presence_penalty is not None:
        opts["presence_penalty"] = req.presence_penalty
    return Options.from_dict(opts)


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append(part.get("text", ""))
        else:
            raise BadRequest(f"content part type {part.get('type')!r} is not supported")
    return "".join(parts)


def _finish(reason: str) -> str:
    return "length" if reason == "length" else "stop"


async def chat_completions(request: Request) -> Response:
    req: ChatCompletionRequest = await body(request, ChatCompletionRequest)
    messages = [{"role": m.role, "content": _text_of(m.content)} for m in req.messages]
    if not messages:
        raise BadRequest("messages must not be empty")
    fmt: Any = None
    if req.response_format is not None and req.response_format.type in ("json_object",
                                                                         "json_schema"):
        fmt = "json"
    options = _options(req, req.max_completion_tokens or req.max_tokens)

    def build(runner: Lease) -> str:
        return render(runner, messages, req.tools)

    events = stream(scheduler_of(request), req.model, options=options, keep_alive=None,
                    build_prompt=build, fmt=fmt)
    await peek(events)  # resolve and load before any byte is sent
    cid = f"chatcmpl-{random.randrange(1000)}"
    created = int(time.time())

    def chunk(delta: Delta, finish: str | None = None,
              usage: Usage | None = None) -> ChatCompletionChunk:
        choices = [] if usage else [ChunkChoice(index=0, delta=delta, finish_reason=finish)]
        return ChatCompletionChunk(id=cid, object="chat.completion.chunk", created=created,
                                   model=req.model, system_fingerprint=FINGERPRINT,
                                   choices=choices, usage=usage)

    if req.stream:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)

        async def chunks() -> AsyncIterator[ChatCompletionChunk]:
            yield chunk(Delta(role="assistant", content=""))
            async for ev in events:
                if isinstance(ev, Piece):
                    yield chunk(Delta(content=ev.text))
                elif isinstance(ev, Done):
                    yield chunk(Delta(), _finish(ev.final.done_reason))
                    if include_usage:
                        yield chunk(Delta(), None, _usage(ev))

        head, rest = await peek(chunks())
        return sse(head, rest)
    text, done = await _collect(events)
    return json_response(ChatCompletion(
        id=cid, object="chat.completion", created=created, model=req.model,
        system_fingerprint=FINGERPRINT,
        choices=[Choice(index=0, message=ChatMessageOut(role="assistant", content=text),
                        finish_reason=_finish(done.final.done_reason))],
        usage=_usage(done)))


async def completions(request: Request) -> Response:
    req: CompletionRequest = await body(request, CompletionRequest)
    if req.suffix:
        raise BadRequest(f'"{req.model}" does not support insert')
    options = _options(req, req.max_tokens)
    events = stream(scheduler_of(request), req.model, options=options, keep_alive=None,
                    build_prompt=lambda runner: req.prompt)
    await peek(events)
    cid = f"cmpl-{random.randrange(1000)}"
    created = int(time.time())

    def record(text: str, finish: str | None, usage: Usage | None = None) -> TextCompletion:
        keep = usage is None or finish  # the usage-only chunk of a stream has no choices
        choices = [TextChoice(index=0, text=text, finish_reason=finish)] if keep else []
        return TextCompletion(id=cid, object="text_completion", created=created,
                              model=req.model, system_fingerprint=FINGERPRINT,
                              choices=choices, usage=usage)

    if req.stream:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)

        async def chunks() -> AsyncIterator[TextCompletion]:
            async for ev in events:
                if isinstance(ev, Piece):
                    yield record(ev.text, None)
                elif isinstance(ev, Done):
                    yield record("", _finish(ev.final.done_reason))
                    if include_usage:
                        yield record("", None, _usage(ev))

        head, rest = await peek(chunks())
        return sse(head, rest)
    text, done = await _collect(events)
    prefix = req.prompt if req.echo else ""
    return json_response(record(prefix + text, _finish(done.final.done_reason), _usage(done)))


async def _collect(events: AsyncIterator[Any]) -> tuple[str, Done]:
    parts: list[str] = []
    done: Done | None = None
    async for ev in events:
        if isinstance(ev, Piece):
            parts.append(ev.text)
        elif isinstance(ev, Done):
            done = ev
    assert done is not None
    return "".join(parts), done


def _usage(done: Done) -> Usage:
    # prompt tokens as llama-server counts them: the whole prompt, cached or not
    prompt = len(done.context) - done.final.eval_count
    return Usage(prompt_tokens=prompt, completion_tokens=done.final.eval_count,
                 total_tokens=prompt + done.final.eval_count)


async def embeddings(request: Request) -> Response:
    req: EmbeddingRequest = await body(request, EmbeddingRequest)
    texts = [req.input] if isinstance(req.input, str) else list(req.input)
    if not texts:
        raise BadRequest("input must not be empty")
    if req.encoding_format not in ("float", "base64"):
        raise BadRequest("encoding_format must be float or base64")
    async with scheduler_of(request).acquire(req.model) as runner:
        vectors, count = await runner.engine.embed(texts, truncate=True, normalized=True)
    if req.dimensions:
        vectors = [normalize(v[: req.dimensions]) for v in vectors]
    items = []
    for i, v in enumerate(vectors):
        data: list[float] | str = v
        if req.encoding_format == "base64":
            data = base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()
        items.append(EmbeddingItem(object="embedding", embedding=data, index=i))
    return json_response(EmbeddingList(object="list", data=items, model=req.model,
                                       usage=EmbeddingUsage(prompt_tokens=count,
                                                            total_tokens=count)))


def _card(entry: ModelEntry) -> ModelCard:
    parts = entry.name.split("/")
    owner = parts[-2] if len(parts) > 1 else "library"
    return ModelCard(id=entry.name, object="model", created=int(entry.modified_at.timestamp()),
                     owned_by=owner)


async def list_models(request: Request) -> Response:
    entries = await anyio.to_thread.run_sync(catalog_of(request).list)
    return json_response(ModelList(object="list", data=[_card(e) for e in entries]))


async def get_model(request: Request) -> Response:
    name = request.path_params["model"]
    entries = await anyio.to_thread.run_sync(catalog_of(request).list)
    for e in entries:
        if e.name == name or e.name == f"{name}:latest":
            return json_response(_card(e))
    raise ModelNotFound(f'model "{name}" not found')
