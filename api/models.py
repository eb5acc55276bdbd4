"""Model management routes: tags, show, copy, delete, blobs, pull, push, create."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator

import anyio
import anyio.lowlevel
from llmrt.runtime.store import Progress, pull, push
from llmrt.runtime.store import create as create_model
from starlette.requests import Request
from starlette.responses import Response

from . import records
from .errors import BadRequest
from .requests import body, catalog_of, reply
from .schema import models as s
from .schema.models import ProgressResponse
from .streaming import json_response

DIGEST = re.compile(r"^sha256[:-][0-9a-f]{64}$")


async def tags(request: Request) -> Response:
    entries = await anyio.to_thread.run_sync(catalog_of(request).list)
    return json_response(records.entries(entries))


async def show(request: Request) -> Response:
    req: s.ShowRequest = await body(request, s.ShowRequest)
    name = req.model or req.name
    if not name:
        raise BadRequest("model is required")
    info = await anyio.to_thread.run_sync(
        lambda: catalog_of(request).show(name, verbose=req.verbose))
    return json_response(records.show(info))


async def copy(request: Request) -> Response:
    req: s.CopyRequest = await body(request, s.CopyRequest)
    store = catalog_of(request).store
    await anyio.to_thread.run_sync(catalog_of(request).resolve, req.source)  # bundled: import
    await anyio.to_thread.run_sync(store.copy, req.source, req.destination)
    return Response(status_code=200)


async def delete(request: Request) -> Response:
    req: s.DeleteRequest = await body(request, s.DeleteRequest)
    name = req.model or req.name
    if not name:
        raise BadRequest("model is required")
    await anyio.to_thread.run_sync(catalog_of(request).store.delete, name)
    return Response(status_code=200)


def _digest(request: Request) -> str:
    digest = request.path_params["digest"]
    if not DIGEST.match(digest):
        raise BadRequest(f"invalid digest {digest!r}: want sha256:<64 hex digits>")
    return "sha256:" + digest[7:]


async def blob_head(request: Request) -> Response:
    digest = _digest(request)
    found = await anyio.to_thread.run_sync(catalog_of(request).store.has_blob, digest)
    return Response(status_code=200 if found else 404)


async def blob_post(request: Request) -> Response:
    digest = _digest(request)
    store = catalog_of(request).store
    if await anyio.to_thread.run_sync(store.has_blob, digest):
        return Response(status_code=200)
    w = await anyio.to_thread.run_sync(store.blobs.writer, digest)
    try:
        async for chunk in request.stream():
            await anyio.to_thread.run_sync(w.write, chunk)
        await anyio.to_thread.run_sync(w.commit)  # verifies the digest; aborts on a mismatch
    except BaseException:
        w.abort()
        raise
    return Response(status_code=201)


# ---- progress streams: pull, push, create -----------------------------------------------------

async def pull_route(request: Request) -> Response:
    req: s.PullRequest = await body(request, s.PullRequest)
    name = req.model or req.name
    store = catalog_of(request).store
    return await _progress(lambda: pull(name, insecure=req.insecure, store=store), req.stream)


async def push_route(request: Request) -> Response:
    req: s.PullRequest = await body(request, s.PullRequest)
    name = req.model or req.name
    store = catalog_of(request).store
    return await _progress(lambda: push(name, insecure=req.insecure, store=store), req.stream)


async def create_route(request: Request) -> Response:
    req: s.CreateRequest = await body(request, s.CreateRequest)
    spec = records.create_request(req)
    store = catalog_of(request).store
    return await _progress(lambda: create_model(spec, store=store), req.stream is not False)


async def _progress(start: Callable[[], Generator[Progress]], stream: bool) -> Response:
    async def wire() -> AsyncIterator[ProgressResponse]:
        async with contextlib.aclosing(_in_thread(start)) as items:
            async for p in items:
                yield records.progress(p)

    return await reply(wire(), stream=stream)


async def _in_thread(start: Callable[[], Generator[Progress]]) -> AsyncGenerator[Progress]:
    """Run a blocking progress generator in its own thread; stop it if the client leaves."""
    send, recv = anyio.create_memory_object_stream[Progress | BaseException](16)
    token = anyio.lowlevel.current_token()
    stop = threading.Event()

    def deliver(item: Progress | BaseException) -> None:
        anyio.from_thread.run(send.send, item, token=token)

    def work() -> None:
        gen = None
        try:
            gen = start()
            for item in gen:
                if stop.is_set():
                    break
                deliver(item)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, RuntimeError):
            pass  # the reader is gone (client left, or the loop is shutting down)
        except BaseException as exc:  # handed to the route, raised there
            with contextlib.suppress(Exception):
                deliver(exc)
        finally:
            if gen is not None:
                gen.close()  # a cancelled pull keeps its resumable parts
            with contextlib.suppress(Exception):
                anyio.from_thread.run_sync(send.close, token=token)

    threading.Thread(target=work, daemon=True, name="llmrt-progress").start()
    try:
        async with recv:
            async for item in recv:
                if isinstance(item, BaseException):
                    raise item
                yield item
    finally:
        stop.set()
        send.close()
