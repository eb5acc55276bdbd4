"""What the store reports about models: the bodies of /api/tags entries and /api/show."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from .manifest import ModelConfig
from .message import Message


class ModelDetails(msgspec.Struct):
    parent_model: str = ""
    format: str = ""
    family: str = ""
    families: list[str] | None = None
    parameter_size: str = ""
    quantization_level: str = ""

    @classmethod
    def from_config(cls, config: ModelConfig) -> ModelDetails:
        return cls(format=config.model_format or "gguf", family=config.model_family,
                   families=config.model_families, parameter_size=config.model_type,
                   quantization_level=config.file_type)


class ModelEntry(msgspec.Struct):
    """One model of ``/api/tags``; ``digest`` is the sha256 of the manifest file (hex)."""

    name: str
    model: str
    modified_at: datetime.datetime
    size: int
    digest: str
    details: ModelDetails


class ShowInfo(msgspec.Struct, omit_defaults=True):
    """The ``/api/show`` response."""

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
