"""Ollama's wire messages: one msgspec Struct per message.

Requests ignore unknown fields (newer clients send extras, as Ollama tolerates); ``UNSET`` marks
"not given". Responses omit unset/None fields where Ollama omits them.
"""

from __future__ import annotations

from typing import Any

import msgspec
from llmrt.runtime.store import ModelDetails  # /api/tags, /api/show and /api/ps share it
from msgspec import UNSET, UnsetType

KeepAlive = float | int | str | None


class Base(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every message."""


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
    arguments: dict[str, Any] = {}
    index: int | UnsetType = UNSET


class ToolCall(Base):
    function: ToolCallFunction
    id: str | UnsetType = UNSET


class Message(Base):
    role: str
    content: str = ""
    thinking: str | UnsetType = UNSET
    images: list[str] | None = None
    tool_calls: list[ToolCall] | UnsetType = UNSET
    tool_name: str | UnsetType = UNSET
    tool_call_id: str | UnsetType = UNSET


class ChatRequest(Base):
    model: str
    messages: list[Message] = []
    tools: list[dict[str, Any]] | None = None
    format: str | dict[str, Any] | None = None
    options: dict[str, Any] | None = None
    stream: bool = True
    keep_alive: KeepAlive | UnsetType = UNSET
    think: bool | str | None = None


class EmbedRequest(Base):
    model: str
    input: str | list[str] = []
    truncate: bool = True
    dimensions: int | None = None
    options: dict[str, Any] | None = None
    keep_alive: KeepAlive | UnsetType = UNSET


class EmbeddingsRequest(Base):
    model: str
    prompt: str = ""
    options: dict[str, Any] | None = None
    keep_alive: KeepAlive | UnsetType = UNSET


class ShowRequest(Base):
    model: str = ""
    name: str = ""  # older clients
    verbose: bool = False


class CopyRequest(Base):
    source: str
    destination: str


class DeleteRequest(Base):
    model: str = ""
    name: str = ""


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


class ResponseMessage(msgspec.Struct, kw_only=True):
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


class RunningModel(Base):
    name: str
    model: str
    size: int
    digest: str
    details: ModelDetails
    expires_at: str
    size_vram: int
    context_length: int


class PsResponse(Base):
    models: list[RunningModel]


class VersionResponse(Base):
    version: str
