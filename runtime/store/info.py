"""What the store reports about models: its records behind /api/tags and /api/show.

Plain records: the HTTP layer maps them onto its wire messages (api/records.py), the library
reads them as they are. ``ModelDetails`` is also what a resolved model carries to /api/ps.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from .manifest import ModelConfig
from .message import Message


@dataclass(frozen=True, slots=True)
class ModelDetails:
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


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One stored model; ``digest`` is the sha256 of the manifest file (hex)."""

    name: str
    model: str
    modified_at: datetime.datetime
    size: int
    digest: str
    details: ModelDetails


@dataclass(slots=True)
class ShowInfo:
    """What ``show`` knows about a model."""

    license: str = ""
    modelfile: str = ""
    parameters: str = ""
    template: str = ""
    system: str = ""
    details: ModelDetails = field(default_factory=ModelDetails)
    messages: list[Message] = field(default_factory=list)
    model_info: dict[str, Any] = field(default_factory=dict)
    projector_info: dict[str, Any] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    modified_at: datetime.datetime | None = None
