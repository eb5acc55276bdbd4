"""One table from errors to HTTP statuses, and the error bodies of both protocols."""

from __future__ import annotations

import msgspec
from llmrt.runtime.adapters import AdapterMismatch
from llmrt.runtime.errors import (
    ContextOverflow,
    DigestMismatch,
    InvalidDigest,
    InvalidName,
    LlmrtError,
    ModelfileError,
    ModelLoadError,
    ModelNotFound,
    QuantizeError,
    RegistryAuthError,
    SamplerError,
    TemplateError,
)
from llmrt.runtime.scheduler import ServerBusy
from starlette.requests import Request
from starlette.responses import Response

from .schema import ollama as ol
from .schema import openai as oa

_encoder = msgspec.json.Encoder()


class BadRequest(LlmrtError, ValueError):
    """The request is invalid (400)."""


#: most specific first
STATUS: list[tuple[type[BaseException], int]] = [
    (msgspec.ValidationError, 400),
    (msgspec.DecodeError, 400),
    (BadRequest, 400),
    (SamplerError, 400),
    (TemplateError, 400),
    (ContextOverflow, 400),
    (InvalidName, 400),
    (InvalidDigest, 400),
    (DigestMismatch, 400),
    (ModelfileError, 400),
    (AdapterMismatch, 400),
    (QuantizeError, 400),
    (RegistryAuthError, 401),
    (ModelNotFound, 404),
    (ServerBusy, 503),
    (ModelLoadError, 500),
    (LlmrtError, 500),
]


def status_for(exc: BaseException) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def message_for(exc: BaseException) -> str:
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return f"invalid JSON: {exc}"
    return str(exc) or type(exc).__name__


def ollama_error(exc: BaseException) -> Response:
    body = _encoder.encode(ol.ErrorResponse(error=message_for(exc)))
    return Response(body, status_code=status_for(exc), media_type="application/json")


_OPENAI_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def openai_error(exc: BaseException) -> Response:
    status = status_for(exc)
    body = _encoder.encode(oa.ErrorResponse(error=oa.ErrorDetail(
        message=message_for(exc), type=_OPENAI_TYPES.get(status, "api_error"))))
    return Response(body, status_code=status, media_type="application/json")


async def handle(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: OpenAI's shape under /v1, Ollama's elsewhere."""
    if request.url.path.startswith("/v1/"):
        return openai_error(exc)
    return ollama_error(exc)
