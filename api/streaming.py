"""Response helpers: one JSON object, NDJSON streams, SSE streams.

A failure after streaming began cannot change the status any more: it becomes a final
``{"error": ...}`` line (NDJSON) or an error event (SSE), as Ollama and OpenAI do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import msgspec
from starlette.responses import Response, StreamingResponse

from .errors import message_for
from .schema import Base
from .schema import ollama as ol
from .schema import openai as oa

log = logging.getLogger("llmrt.api")
_encoder = msgspec.json.Encoder()
It = TypeVar("It", bound=AsyncIterator[Any])


def json_response(obj: Base, status: int = 200) -> Response:
    return Response(_encoder.encode(obj), status_code=status,
                    media_type="application/json; charset=utf-8")


def ndjson(first: Base, rest: AsyncIterator[Base]) -> StreamingResponse:
    """Stream ``first`` then ``rest`` as NDJSON. ``first`` is produced before the response
    starts, so errors up to the first record still get a real status code."""

    async def body() -> AsyncIterator[bytes]:
        buf = bytearray()
        _encoder.encode_into(first, buf)
        buf.extend(b"\n")
        yield bytes(buf)
        try:
            async for obj in rest:
                buf.clear()
                _encoder.encode_into(obj, buf)
                buf.extend(b"\n")
                yield bytes(buf)
        except Exception as exc:  # noqa: BLE001 - reported in-band, as Ollama does
            log.warning("stream failed: %s", exc)
            yield _encoder.encode(ol.ErrorResponse(error=message_for(exc))) + b"\n"

    return StreamingResponse(body(), media_type="application/x-ndjson")


def sse(first: Base, rest: AsyncIterator[Base]) -> StreamingResponse:
    """Server-sent events ``data: {...}`` ending with ``data: [DONE]`` (OpenAI's streams)."""

    async def body() -> AsyncIterator[bytes]:
        yield b"data: " + _encoder.encode(first) + b"\n\n"
        try:
            async for obj in rest:
                yield b"data: " + _encoder.encode(obj) + b"\n\n"
        except Exception as exc:  # noqa: BLE001
            log.warning("stream failed: %s", exc)
            err = oa.ErrorResponse(error=oa.ErrorDetail(message=message_for(exc),
                                                        type="api_error"))
            yield b"data: " + _encoder.encode(err) + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")


async def peek(it: It) -> tuple[Any, It]:
    """The first item of an async iterator, and the iterator (errors surface here)."""
    first = await it.__anext__()
    return first, it
