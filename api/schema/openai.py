"""OpenAI's /v1 messages: chat completions, completions, embeddings, models, and its error body.

Responses carry every field OpenAI's do (``finish_reason: null`` included): their classes say
``omit_defaults=False``; streamed chunks leave ``usage`` out until the last one.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType

from . import Base

# ---- requests -------------------------------------------------------------------------------


class StreamOptions(Base):
    include_usage: bool = False


class ChatMessageIn(Base):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ResponseFormat(Base):
    type: str = "text"
    json_schema: dict[str, Any] | None = None


class SamplingRequest(Base):
    """The fields both completion endpoints share (OpenAI's names)."""

    model: str
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None


class ChatCompletionRequest(SamplingRequest, kw_only=True):
    messages: list[ChatMessageIn]
    max_completion_tokens: int | None = None
    response_format: ResponseFormat | None = None
    tools: list[dict[str, Any]] | None = None


class CompletionRequest(SamplingRequest, kw_only=True):
    prompt: str
    suffix: str | None = None
    echo: bool = False


class EmbeddingRequest(Base):
    model: str
    input: str | list[str]
    encoding_format: str = "float"
    dimensions: int | None = None


# ---- responses ------------------------------------------------------------------------------

class Usage(Base, omit_defaults=False):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Delta(Base):
    role: str | UnsetType = UNSET
    content: str | UnsetType = UNSET


class ChunkChoice(Base, omit_defaults=False):
    index: int
    delta: Delta
    finish_reason: str | None = None


class ChatCompletionChunk(Base):
    id: str
    object: str
    created: int
    model: str
    system_fingerprint: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ChatMessageOut(Base, omit_defaults=False):
    role: str
    content: str


class Choice(Base, omit_defaults=False):
    index: int
    message: ChatMessageOut
    finish_reason: str | None


class ChatCompletion(Base, omit_defaults=False):
    id: str
    object: str
    created: int
    model: str
    system_fingerprint: str
    choices: list[Choice]
    usage: Usage


class TextChoice(Base, omit_defaults=False):
    index: int
    text: str
    finish_reason: str | None


class TextCompletion(Base):
    id: str
    object: str
    created: int
    model: str
    system_fingerprint: str
    choices: list[TextChoice]
    usage: Usage | None = None


class EmbeddingItem(Base, omit_defaults=False):
    object: str
    embedding: list[float] | str
    index: int


class EmbeddingUsage(Base, omit_defaults=False):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(Base, omit_defaults=False):
    object: str
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


class ModelCard(Base, omit_defaults=False):
    id: str
    object: str
    created: int
    owned_by: str


class ModelList(Base, omit_defaults=False):
    object: str
    data: list[ModelCard]


class ErrorDetail(Base, omit_defaults=False):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(Base):
    """Every failed /v1 request, and the last event of a stream that failed midway."""

    error: ErrorDetail
