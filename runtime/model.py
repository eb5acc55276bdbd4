"""Model: owns one ``llama_model``. Metadata, chat template, sizes, tokenizer."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import native
from ._bindings import model as _m
from ._owner import Owner
from .errors import ModelLoadError
from .tokenizer import Tokenizer

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    path: str
    description: str
    architecture: str
    quantization: str
    n_ctx_train: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    size: int
    n_params: int
    has_encoder: bool


class Model(Owner):
    """A loaded GGUF model. Use as a context manager or call ``close()``."""

    def __init__(self, path: str | os.PathLike[str], *, n_gpu_layers: int = 0,
                 use_mmap: bool = True, vocab_only: bool = False,
                 devices: list[int] | None = None, main_gpu: int = 0) -> None:
        self.path = str(path)
        _check_file(Path(self.path))
        native.ensure_backends()
        dev_arr = None
        if devices is not None:
            from ._bindings.backend import device_handles

            dev_arr = device_handles(devices)
        handle = _m.load(self.path, n_gpu_layers=n_gpu_layers, use_mmap=use_mmap,
                         vocab_only=vocab_only, devices=dev_arr, main_gpu=main_gpu)
        self._own(handle, _m.free)
        self.tokenizer = Tokenizer(self, _m.vocab(handle))

    @property
    def handle(self) -> object:
        return self._live()

    @cached_property
    def metadata(self) -> dict[str, str]:
        return _m.metadata(self._live())

    @cached_property
    def info(self) -> ModelInfo:
        h = self._live()
        d = _m.dims(h)
        return ModelInfo(
            path=self.path, description=_m.description(h),
            architecture=self.metadata.get("general.architecture", ""),
            quantization=_m.ftype_name(h), n_ctx_train=d["n_ctx_train"], n_embd=d["n_embd"],
            n_layer=d["n_layer"], n_head=d["n_head"], n_head_kv=d["n_head_kv"], size=d["size"],
            n_params=d["n_params"], has_encoder=bool(d["has_encoder"]),
        )

    @cached_property
    def chat_template(self) -> str | None:
        return _m.chat_template(self._live())

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.info.description
        return f"Model({self.path!r}, {state})"


def _check_file(path: Path) -> None:
    """Clear errors for the common bad inputs, before llama.cpp sees the file."""
    if not path.exists():
        raise ModelLoadError(f"model file not found: {path}")
    if not path.is_file():
        raise ModelLoadError(f"not a file: {path}")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelLoadError(f"{path} is not a GGUF file (magic {magic!r})")
