"""LoraAdapter: owns one ``llama_adapter_lora`` loaded against a Model."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._bindings import adapter as _a
from ._owner import Owner
from .adapters import check_lora

if TYPE_CHECKING:
    from .model import Model


class LoraAdapter(Owner):
    """A GGUF LoRA for ``model``, checked first (runtime/adapters.py), applied to contexts with
    ``Context.set_adapters``. Closed before its model."""

    def __init__(self, model: Model, path: str | os.PathLike[str], scale: float = 1.0) -> None:
        self.path = str(path)
        self.scale = float(scale)
        check_lora(self.path, model.path)
        self._own(_a.load(model.handle, self.path), _a.free)
        self._depends_on(model)

    @property
    def handle(self) -> object:
        return self._live()
