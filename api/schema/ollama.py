"""Ollama's generation messages: generate, chat, embed, embeddings, version, and its error body.

Requests ignore unknown fields; ``UNSET`` marks "not given". Responses omit unset fields where
Ollama omits them.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from . import Base

KeepAlive = float | int | str | None


# ---- requests -------------------------------------------------------------------------------

class GenerateRequest(Base):
    model: str
    prompt: str = ""
    suffix: str = ""
    system: str | None = None
    template: str | None = None
    context: list[int] | None = None
    stream: bool = True
    raw: bool = False
    format: str | dict[str, Any] | None = None
    images: list[str] | None = None
    options: dict[str, Any] | None = None
    keep_alive: KeepAlive | UnsetType = UNSET
    think: bool | str | None = None


class ToolCallFunction(Base):
    name: str
    arguments: dict[str, Any] = msgspec.field(default_factory=dict)
    index: int | UnsetType = UNSET


class ToolCall(Base):
    function: ToolCallFunction
    id: str | UnsetType = UNSET


class Message(Base):
    """A chat message: /api/chat's ``messages``, /api/create's and /api/show's ``messages``."""

    role: str
    content: str = ""
    thinking: str | UnsetType = UNSET
    images: list[str] | None = None
    tool_calls: list[ToolCall] | UnsetType = UNSET
    tool_name: str | UnsetType = UNSET
    tool_call_id: str | UnsetType = UNSET


class ChatRequest(Base):
    model: str
    messages: list[Message] = msgspec.field(default_factory=list)
    tools: list[dict[str, Any]] | None = None
    format: str | dict[str, Any] | None = None
    options: dict[str, Any] | None = None
    stream: bool = True
    keep_alive: KeepAlive | UnsetType = UNSET
    think: bool | str | None = None


class EmbedRequest(Base):
    model: str
    input: str | list[str] = msgspec.field(default_factory=list)
    truncate: bool = True
    dimensions: int | None = None
    options: dict[str, Any] | None = None
    keep_alive: KeepAlive | UnsetType = UNSET


class EmbeddingsRequest(Base):
    model: str
    prompt: str = ""
    options: dict[str, Any] | None = None
    keep_alive: KeepAlive | UnsetType = UNSET


# ---- responses ------------------------------------------------------------------------------

class GenerateResponse(Base):
    model: str
    created_at: str
    response: str
    done: bool
    done_reason: str | UnsetType = UNSET
    context: list[int] | UnsetType = UNSET
    total_duration: int | UnsetType = UNSET
    load_duration: int | UnsetType = UNSET
    prompt_eval_count: int | UnsetType = UNSET
    prompt_eval_duration: int | UnsetType = UNSET
    eval_count: int | UnsetType = UNSET
    eval_duration: int | UnsetType = UNSET


class ResponseMessage(Base, omit_defaults=False):
    """The assistant message in a chat response: content always present, extras when set."""

    role: str = "assistant"
    content: str = ""
    thinking: str | UnsetType = UNSET
    tool_calls: list[ToolCall] | UnsetType = UNSET


class ChatResponse(Base):
    model: str
    created_at: str
    message: ResponseMessage
    done: bool
    done_reason: str | UnsetType = UNSET
    total_duration: int | UnsetType = UNSET
    load_duration: int | UnsetType = UNSET
    prompt_eval_count: int | UnsetType = UNSET
    prompt_eval_duration: int | UnsetType = UNSET
    eval_count: int | UnsetType = UNSET
    eval_duration: int | UnsetType = UNSET


class EmbedResponse(Base):
    model: str
    embeddings: list[list[float]]
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0


class EmbeddingsResponse(Base):
    embedding: list[float]


class VersionResponse(Base):
    version: str


class ErrorResponse(Base):
    """Every failed /api/* request, and the last line of a stream that failed midway."""

    error: str
