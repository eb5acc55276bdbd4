"""Ollama's options: one Struct, UNSET for "not given", so layers merge cleanly.

Precedence (lowest first): defaults < Modelfile PARAMETERs < request options. ``merge`` layers them;
``resolved`` fills what is still unset with Ollama's defaults.

``backend`` is llmrt's own (Ollama has no such option and ignores it): the backend plugin to load
the model on, e.g. ``"vulkan"`` or ``"cpu"``; unset or ``""`` leaves the choice to
``LLMRT_BACKEND``, else to the automatic one (never a CPU-type device such as lavapipe).
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

#: Ollama's defaults (api/types.go DefaultOptions at HEAD). num_ctx's default is llmrt's own.
DEFAULTS: dict[str, Any] = {
    "num_keep": 4, "seed": -1, "num_predict": -1, "top_k": 40, "top_p": 0.9, "min_p": 0.0,
    "typical_p": 1.0, "repeat_last_n": 64, "temperature": 0.8, "repeat_penalty": 1.0,
    "presence_penalty": 0.0, "frequency_penalty": 0.0, "stop": [],
    "num_ctx": 4096, "num_batch": 512, "num_gpu": -1, "main_gpu": 0, "use_mmap": True,
    "num_thread": 0, "backend": "",
}

#: Options whose change needs a new model instance/context (Ollama's "Runner" options).
LOAD_TIME = ("num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread",
             "backend")


class Options(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=False):
    """Per-request generation options with Ollama's names. Unknown keys are ignored."""

    num_keep: int | UnsetType = UNSET
    seed: int | UnsetType = UNSET
    num_predict: int | UnsetType = UNSET
    top_k: int | UnsetType = UNSET
    top_p: float | UnsetType = UNSET
    min_p: float | UnsetType = UNSET
    typical_p: float | UnsetType = UNSET
    repeat_last_n: int | UnsetType = UNSET
    temperature: float | UnsetType = UNSET
    repeat_penalty: float | UnsetType = UNSET
    presence_penalty: float | UnsetType = UNSET
    frequency_penalty: float | UnsetType = UNSET
    stop: list[str] | UnsetType = UNSET
    num_ctx: int | UnsetType = UNSET
    num_batch: int | UnsetType = UNSET
    num_gpu: int | UnsetType = UNSET
    main_gpu: int | UnsetType = UNSET
    use_mmap: bool | UnsetType = UNSET
    num_thread: int | UnsetType = UNSET
    backend: str | UnsetType = UNSET

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Options:
        """Convert a JSON-ish mapping (request ``options``); raises msgspec.ValidationError."""
        if not data:
            return cls()
        # a null value means "not given", as in Ollama (LangChain sends every option, most null)
        data = {k: v for k, v in data.items() if v is not None}
        stop = data.get("stop")
        if isinstance(stop, str):  # Modelfiles and OpenAI allow a single string
            data = {**data, "stop": [stop]}
        return msgspec.convert(data, cls, strict=False)

    def given(self) -> dict[str, Any]:
        return {f: v for f in self.__struct_fields__ if (v := getattr(self, f)) is not UNSET}

    def merge(self, over: Options | None) -> Options:
        """A copy of self with every field that ``over`` sets replaced."""
        if over is None:
            return self
        return msgspec.structs.replace(self, **over.given())

    def get(self, name: str) -> Any:
        v = getattr(self, name)
        return DEFAULTS[name] if v is UNSET else v

    def resolved(self) -> ResolvedOptions:
        return ResolvedOptions(**{f: self.get(f) for f in self.__struct_fields__})


class ResolvedOptions(msgspec.Struct, kw_only=True, frozen=True):
    """Options with every value decided."""

    num_keep: int
    seed: int
    num_predict: int
    top_k: int
    top_p: float
    min_p: float
    typical_p: float
    repeat_last_n: int
    temperature: float
    repeat_penalty: float
    presence_penalty: float
    frequency_penalty: float
    stop: list[str]
    num_ctx: int
    num_batch: int
    num_gpu: int
    main_gpu: int
    use_mmap: bool
    num_thread: int
    backend: str
