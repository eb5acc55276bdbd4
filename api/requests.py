"""What every route does with a request: decode its body, read its options and keep_alive, and
answer with one JSON object or a stream.

Bad input becomes a ``BadRequest`` (400) whose message names the field: a
``msgspec.ValidationError`` already says ``... - at `$.options.temperature```, and api/errors.py
turns both into the 400 body.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import msgspec
from llmrt.runtime.catalog import Catalog
from llmrt.runtime.options import Options
from llmrt.runtime.scheduler import Scheduler, parse_keep_alive
from starlette.requests import Request
from starlette.responses import Response

from .errors import BadRequest
from .schema import Base
from .streaming import json_response, ndjson, peek

T = TypeVar("T")
R = TypeVar("R", bound=Base)

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decode(body: bytes, cls: type[T]) -> T:
    """``body`` as a ``cls``; the decoder for each type is built once."""
    dec = _decoders.get(cls)
    if dec is None:
        dec = _decoders[cls] = msgspec.json.Decoder(cls)
    result: T = dec.decode(body)
    return result


async def body(request: Request, cls: type[T]) -> T:
    """The request's JSON body as a ``cls``; an empty body is a 400."""
    data = await request.body()
    if not data:
        raise BadRequest("missing request body")
    return decode(data, cls)


def keep_alive_of(value: Any) -> float | None:
    """Ollama's ``keep_alive`` ("5m", 300, -1, 0) in seconds; UNSET: the server's default."""
    if value is msgspec.UNSET:
        return None
    try:
        return parse_keep_alive(value)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def options_from(raw: dict[str, Any] | None) -> Options:
    """A request's ``options`` dict; an unknown option or a wrong type is a 400."""
    try:
        return Options.from_dict(raw)
    except Exception as exc:
        raise BadRequest(f"invalid options: {exc}") from exc


async def reply(records: AsyncIterator[R], *, stream: bool,
                final: Callable[[list[R]], R] | None = None) -> Response:
    """Stream ``records`` as NDJSON, or answer with one object: ``final`` of all of them, or the
    last one when there is no ``final``. Either way the first record is produced before the
    response starts, so an error up to there still gets its status code."""
    first, rest = await peek(records)
    if stream:
        return ndjson(first, rest)
    if final is not None:
        return json_response(final([first, *[r async for r in rest]]))
    last = first
    async for record in rest:
        last = record
    return json_response(last)


def scheduler_of(request: Request) -> Scheduler:
    return request.app.state.scheduler


def catalog_of(request: Request) -> Catalog:
    return request.app.state.catalog


def now() -> str:
    """Ollama's ``created_at``: UTC, RFC 3339 with a ``Z``."""
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
