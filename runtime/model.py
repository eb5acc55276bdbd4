"""Model: owns one ``llama_model``. Metadata, chat template, sizes, tokenizer.

A plain owner: it loads the file where it is told (``devices``, ``n_gpu_layers``). Where that
is, is the loader's decision (``runtime/loader.py``: ``open_model`` plans with the backend
plugins, then builds a Model).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from llmrt.backends.placement import offloaded_bytes

from . import native
from ._bindings import model as _m
from ._bindings.backend import device_handles
from ._owner import Owner
from .errors import ModelLoadError
from .gguf import FILE_TYPES, MAGIC
from .info import ModelInfo
from .tokenizer import Tokenizer

if TYPE_CHECKING:
    from llmrt.backends.manager import LoadPlan

class Model(Owner):
    """A loaded GGUF model. Use as a context manager or call ``close()``."""

    def __init__(self, path: str | os.PathLike[str], *, n_gpu_layers: int = 0,
                 devices: list[int] | tuple[int, ...] | None = (), main_gpu: int = 0,
                 use_mmap: bool = True, vocab_only: bool = False,
                 placement: LoadPlan | None = None) -> None:
        """Load ``path`` with ``n_gpu_layers`` offloaded onto ``devices`` (ggml device indices;
        None: every device ggml lists; empty: the host alone). ``placement``: the plan these
        came from, kept as data (the backend, and per-layer sizes for ``offloaded_bytes``)."""
        self.path = str(path)
        self.vocab_only = vocab_only
        _check_file(Path(self.path))
        native.ensure_backends()  # the host backend must be loaded before llama.cpp loads
        self.placement = placement
        self.n_gpu_layers = n_gpu_layers
        self.devices = tuple(devices) if devices is not None else None
        dev_arr = device_handles(list(devices)) if devices is not None else None
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
        d = _m.dims(h, self.vocab_only)
        return ModelInfo(
            path=self.path, description=_m.description(h),
            architecture=self.metadata.get("general.architecture", ""),
            quantization=quant_label(h, _int_or_none(self.metadata.get("general.file_type"))),
            n_ctx_train=d["n_ctx_train"], n_embd=d["n_embd"],
            n_layer=d["n_layer"], n_head=d["n_head"], n_head_kv=d["n_head_kv"], size=d["size"],
            n_params=d["n_params"], has_encoder=bool(d["has_encoder"]),
        )

    @property
    def offloaded_bytes(self) -> int:
        """Bytes of the model's weights on offload devices (``/api/ps`` ``size_vram``): the
        offloaded layers, and the whole ``info.size`` once the output head is there too
        (llama.cpp keeps only the token-embedding lookup on the host; Ollama also calls that
        100% GPU). KV cache and compute buffers are not counted, as ``info.size`` does not."""
        if not self.n_gpu_layers or not self.devices:
            return 0
        info = self.info
        if self.n_gpu_layers > info.n_layer:
            return info.size
        sizes = self.placement.selection.sizes if self.placement is not None else None
        if sizes is None or sizes.n_layer != info.n_layer:  # header unreadable: by layer count
            return info.size * self.n_gpu_layers // (info.n_layer + 1)
        return min(info.size, offloaded_bytes(sizes, self.n_gpu_layers))

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
    if magic != MAGIC:
        raise ModelLoadError(f"{path} is not a GGUF file (magic {magic!r})")


def _int_or_none(v: str | None) -> int | None:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def quant_label(handle: object, file_type: int | None) -> str:
    if file_type is not None and file_type in FILE_TYPES:
        return FILE_TYPES[file_type]
    return _m.ftype_name(handle, file_type)
