"""Ollama's /api/* generation routes: generate, chat, embed, embeddings, ps, version."""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from llmrt.runtime.engine import Piece
from llmrt.runtime.scheduler import Lease, Runner
from llmrt.runtime.vectors import normalize
from starlette.requests import Request
from starlette.responses import Response

from llmrt import __version__

from .completion import Done, Event, Started, render, stream
from .errors import BadRequest
from .requests import body, keep_alive_of, now, options_from, reply, scheduler_of
from .schema import ollama as s
from .schema.models import ModelDetails, PsResponse, RunningModel
from .streaming import json_response, peek


def _metrics(done: Done) -> dict[str, int]:
    f = done.final
    return {"total_duration": done.total_duration, "load_duration": done.load_duration,
            "prompt_eval_count": f.prompt_eval_count,
            "prompt_eval_duration": f.prompt_eval_duration, "eval_count": f.eval_count,
            "eval_duration": f.eval_duration}


# ---- /api/generate ----------------------------------------------------------------------------

async def generate(request: Request) -> Response:
    req: s.GenerateRequest = await body(request, s.GenerateRequest)
    if req.images:
        raise BadRequest("images are not supported yet: this model runtime has no vision support")
    if req.suffix:
        raise BadRequest(f'"{req.model}" does not support insert')
    if req.raw and (req.template or req.system or req.context):
        raise BadRequest("raw mode does not support template, system, or context")
    keep_alive = keep_alive_of(req.keep_alive)
    options = options_from(req.options)
    unload = not req.prompt and keep_alive == 0

    def build(runner: Lease) -> str | None:
        if not req.prompt:
            return None
        if req.raw:
            return req.prompt
        system = req.system if req.system is not None else runner.spec.system
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": req.prompt}]
        if req.template is not None:  # a jinja template; it also sees `prompt` and `system`
            return runner.render(messages, template=req.template, prompt=req.prompt,
                                 system=system)
        return runner.render(messages)

    events = stream(scheduler_of(request), req.model, options=options, keep_alive=keep_alive,
                    build_prompt=build, fmt=req.format, context=req.context)
    first, events = await peek(events)
    assert isinstance(first, Started)
    if not req.prompt:
        await events.aclose()
        if unload:
            await scheduler_of(request).unload(req.model)
        reason = "unload" if unload else "load"
        return json_response(s.GenerateResponse(model=req.model, created_at=now(), response="",
                                                done=True, done_reason=reason))

    async def records() -> AsyncIterator[s.GenerateResponse]:
        async for ev in events:
            yield _generate_record(req.model, ev)

    def whole(recs: list[s.GenerateResponse]) -> s.GenerateResponse:
        return msgspec.structs.replace(recs[-1], response="".join(r.response for r in recs))

    return await reply(records(), stream=req.stream, final=whole)


def _generate_record(model: str, ev: Event) -> s.GenerateResponse:
    if isinstance(ev, Piece):
        return s.GenerateResponse(model=model, created_at=now(), response=ev.text, done=False)
    assert isinstance(ev, Done)
    return s.GenerateResponse(model=model, created_at=now(), response="", done=True,
                              done_reason=ev.final.done_reason, context=ev.context,
                              **_metrics(ev))


# ---- /api/chat --------------------------------------------------------------------------------

async def chat(request: Request) -> Response:
    req: s.ChatRequest = await body(request, s.ChatRequest)
    if any(m.images for m in req.messages):
        raise BadRequest("images are not supported yet: this model runtime has no vision support")
    keep_alive = keep_alive_of(req.keep_alive)
    options = options_from(req.options)
    messages = [_message_dict(m) for m in req.messages]
    unload = not messages and keep_alive == 0

    def build(runner: Lease) -> str | None:
        if not messages:
            return None
        return render(runner, messages, req.tools)

    events = stream(scheduler_of(request), req.model, options=options, keep_alive=keep_alive,
                    build_prompt=build, fmt=req.format)
    await peek(events)
    if not messages:
        await events.aclose()
        if unload:
            await scheduler_of(request).unload(req.model)
        return json_response(s.ChatResponse(
            model=req.model, created_at=now(), message=s.ResponseMessage(), done=True,
            done_reason="unload" if unload else "load"))

    async def records() -> AsyncIterator[s.ChatResponse]:
        async for ev in events:
            if isinstance(ev, Piece):
                yield s.ChatResponse(model=req.model, created_at=now(),
                                     message=s.ResponseMessage(content=ev.text), done=False)
            elif isinstance(ev, Done):
                yield s.ChatResponse(model=req.model, created_at=now(),
                                     message=s.ResponseMessage(), done=True,
                                     done_reason=ev.final.done_reason, **_metrics(ev))

    def whole(recs: list[s.ChatResponse]) -> s.ChatResponse:
        text = "".join(r.message.content for r in recs)
        return msgspec.structs.replace(recs[-1], message=s.ResponseMessage(content=text))

    return await reply(records(), stream=req.stream, final=whole)


def _message_dict(m: s.Message) -> dict[str, Any]:
    d: dict[str, Any] = {"role": m.role.lower(), "content": m.content}
    if m.tool_calls is not msgspec.UNSET:
        d["tool_calls"] = msgspec.to_builtins(m.tool_calls)
    if m.tool_name is not msgspec.UNSET:
        d["tool_name"] = m.tool_name
    return d


# ---- embeddings -------------------------------------------------------------------------------

async def embed(request: Request) -> Response:
    req: s.EmbedRequest = await body(request, s.EmbedRequest)
    texts = [req.input] if isinstance(req.input, str) else list(req.input)
    vectors, count, load_ns, total_ns = await _embed(request, req.model, texts, req.options,
                                                     keep_alive_of(req.keep_alive),
                                                     truncate=req.truncate, normalized=True)
    if req.dimensions is not None:
        if req.dimensions < 1:
            raise BadRequest("dimensions must be a positive number")
        vectors = [normalize(v[: req.dimensions]) for v in vectors]
    return json_response(s.EmbedResponse(model=req.model, embeddings=vectors,
                                         total_duration=total_ns, load_duration=load_ns,
                                         prompt_eval_count=count))


async def embeddings(request: Request) -> Response:
    req: s.EmbeddingsRequest = await body(request, s.EmbeddingsRequest)
    if not req.prompt:
        return json_response(s.EmbeddingsResponse(embedding=[]))
    vectors, *_ = await _embed(request, req.model, [req.prompt], req.options,
                               keep_alive_of(req.keep_alive), truncate=True, normalized=False)
    return json_response(s.EmbeddingsResponse(embedding=vectors[0]))


async def _embed(request: Request, model: str, texts: list[str],
                 options: dict[str, Any] | None, keep_alive: float | None, *, truncate: bool,
                 normalized: bool) -> tuple[list[list[float]], int, int, int]:
    start = time.perf_counter_ns()
    async with scheduler_of(request).acquire(model, options_from(options), keep_alive) as r:
        load_ns = time.perf_counter_ns() - start
        if not texts:
            return [], 0, load_ns, time.perf_counter_ns() - start
        vectors, count = await r.engine.embed(texts, truncate=truncate, normalized=normalized)
    return vectors, count, load_ns, time.perf_counter_ns() - start


# ---- ps, version, root ------------------------------------------------------------------------

def details_of(runner: Runner) -> ModelDetails:
    """The model's details; what its config leaves empty comes from the loaded GGUF."""
    d = runner.spec.details
    info = runner.engine.info
    return ModelDetails(parent_model=d.parent_model, format="gguf",
                        family=d.family or info.architecture,
                        families=d.families or [info.architecture],
                        parameter_size=d.parameter_size or _param_size(info.n_params),
                        quantization_level=d.quantization_level or info.quantization)


def _param_size(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}".replace(".0", "")
    return str(n)


async def ps(request: Request) -> Response:
    models = []
    for r in scheduler_of(request).loaded():
        if math.isinf(r.expires_at):
            expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365 * 100)
                       if r.refs == 0 else datetime.datetime.now(datetime.UTC)
                       + datetime.timedelta(seconds=min(r.keep_alive, 1e9)))
        else:
            expires = datetime.datetime.fromtimestamp(r.expires_at, datetime.UTC)
        models.append(RunningModel(
            name=r.spec.name, model=r.spec.name, size=r.engine.info.size, digest=r.spec.digest,
            details=details_of(r), expires_at=expires.isoformat().replace("+00:00", "Z"),
            size_vram=int(r.engine.stats().get("size_vram", 0)),
            context_length=r.engine.num_ctx))
    return json_response(PsResponse(models=models))


async def version(request: Request) -> Response:
    return json_response(s.VersionResponse(version=__version__))


async def root(request: Request) -> Response:
    return Response("Ollama is running", media_type="text/plain")
