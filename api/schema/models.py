"""Ollama's model-management messages: tags, ps, show, copy, delete, pull, push, create.

The store reports its own records (runtime/store/info.py, progress.py); api/records.py maps them
onto these shapes.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from . import Base
from .ollama import Message

# ---- what a model is: /api/tags, /api/ps, /api/show ------------------------------------------


class ModelDetails(Base, omit_defaults=False):
    """A model's ``details``: every field always present (``families`` may be null)."""

    parent_model: str = ""
    format: str = ""
    family: str = ""
    families: list[str] | None = None
    parameter_size: str = ""
    quantization_level: str = ""


class ModelEntry(Base, omit_defaults=False):
    """One model of ``/api/tags``; ``digest`` is the sha256 of the manifest file (hex)."""

    name: str
    model: str
    modified_at: datetime.datetime
    size: int
    digest: str
    details: ModelDetails


class TagsResponse(Base):
    models: list[ModelEntry]


class RunningModel(Base):
    """One model of ``/api/ps``."""

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


class ShowRequest(Base):
    model: str = ""
    name: str = ""  # older clients
    verbose: bool = False


class ShowResponse(Base):
    license: str = ""
    modelfile: str = ""
    parameters: str = ""
    template: str = ""
    system: str = ""
    details: ModelDetails = msgspec.field(default_factory=ModelDetails)
    messages: list[Message] = msgspec.field(default_factory=list)
    model_info: dict[str, Any] = msgspec.field(default_factory=dict)
    projector_info: dict[str, Any] = msgspec.field(default_factory=dict)
    capabilities: list[str] = msgspec.field(default_factory=list)
    modified_at: datetime.datetime | None = None


# ---- changing the store ---------------------------------------------------------------------

class CopyRequest(Base):
    source: str
    destination: str


class DeleteRequest(Base):
    model: str = ""
    name: str = ""


class PullRequest(Base):
    """The body of ``/api/pull`` and of ``/api/push``."""

    model: str = ""
    name: str = ""
    insecure: bool = False
    stream: bool = True


class CreateRequest(Base):
    """Ollama's ``/api/create`` body (current form; ``name``/``modelfile``/``quantization`` are
    the pre-0.5 form, still read)."""

    model: str = ""
    from_: str = msgspec.field(default="", name="from")
    files: dict[str, str] = msgspec.field(default_factory=dict)
    adapters: dict[str, str] = msgspec.field(default_factory=dict)
    template: str | None = None
    system: str | None = None
    parameters: dict[str, Any] | None = None
    messages: list[Message] | None = None
    license: str | list[str] | None = None
    quantize: str = ""
    renderer: str = ""
    parser: str = ""
    requires: str = ""
    stream: bool | None = None
    name: str = ""
    modelfile: str = ""
    quantization: str = ""


class ProgressResponse(Base):
    """One record of what /api/pull, /api/push and /api/create stream as NDJSON:

        {"status":"pulling manifest"}
        {"status":"pulling 4ecf1a7c1e2f","digest":"sha256:4ecf…","total":98362432,"completed":0}
        {"status":"success"}
    """

    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0
