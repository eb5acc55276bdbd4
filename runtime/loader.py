"""The one loading path: a model name (or a GGUF path) to what runs it, in three steps.

1. ``resolve``: the one name resolver, used by the server (``catalog.py``), ``llmrt.load()`` and
   Modelfile FROM (``store/create.py``, through the same ``store.defaults.find_or_import``). A
   GGUF path is itself; a name is looked up in the store, with the bundled defaults as the
   store's fallback (imported on first use): manifest -> model blob path, template, params,
   system, messages, adapters, as a ``ModelSpec``.
2. Placement: the backend plugins choose the backend and the layers it holds and load its
   library (``backends.place``): the only placement decision, made here and nowhere else.
3. The engine: ``start_engine`` (the server's, through ``engine/factory.py``: in-process over
   the plan, or a llama-server child) or ``open_model`` (the library's: a Model over the plan).

Nothing here imports the compiled module until an in-process model is opened, so the
llama-server engine serves when the extension cannot be imported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from llmrt import backends

from .engine.base import Engine
from .engine.factory import make_engine
from .options import Options
from .store import ModelDetails, Store
from .store.defaults import find_or_import

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger("llmrt.loader")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What a model name resolves to: the GGUF to load and what the Modelfile adds to it."""

    name: str
    path: Path
    digest: str = ""
    template: str | None = None
    system: str | None = None
    options: Options = field(default_factory=Options)
    messages: tuple[dict[str, Any], ...] = ()
    details: ModelDetails = field(default_factory=ModelDetails)
    adapters: tuple[Path, ...] = ()


def is_path(name_or_path: str | os.PathLike[str]) -> bool:
    """A GGUF path rather than a model name: a PathLike, a ``.gguf`` name, a path separator,
    or an existing file."""
    if not isinstance(name_or_path, str):
        return True
    p = Path(name_or_path)
    return p.suffix == ".gguf" or os.sep in name_or_path or p.exists()


def resolve(name_or_path: str | os.PathLike[str], *, store: Store | None = None) -> ModelSpec:
    """A GGUF path as given (no Modelfile), else ``resolve_name``."""
    if is_path(name_or_path):
        p = Path(name_or_path)
        return ModelSpec(name=p.name, path=p)
    return resolve_name(str(name_or_path), store=store)


def resolve_name(name: str, *, store: Store | None = None) -> ModelSpec:
    """A model name through the store, importing a bundled default on first use. Raises
    ModelNotFound (unknown name), InvalidName, StoreError (a broken manifest)."""
    store = store or Store()
    m = store.resolve(_finish(find_or_import(name, store)))
    return ModelSpec(
        name=m.name.display_shortest(), path=m.model_path, digest=m.digest,
        template=m.chat_template, system=m.system, options=m.options,
        messages=tuple({"role": x.role, "content": x.content} for x in m.messages),
        details=ModelDetails.from_config(m.config), adapters=tuple(m.adapters))


def _finish(gen: Generator[Any, None, _R]) -> _R:
    """Run a progress generator to its end; return its value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def open_model(path: str | os.PathLike[str], *, num_ctx: int = 4096, parallel: int = 1,
               backend: str | None = None, n_gpu_layers: int | None = None,
               use_mmap: bool = True) -> Model:
    """A Model placed by the backend plugins: ``backend`` (or ``LLMRT_BACKEND``) names one,
    e.g. ``"vulkan"``; otherwise the best available that is not a CPU-type device, else the CPU;
    planned for ``num_ctx`` x ``parallel`` tokens of KV cache. ``n_gpu_layers`` overrides the
    plan's layer count."""
    from .model import Model  # the compiled module: only when a model is opened in-process

    plan = backends.place(path, num_ctx=num_ctx, parallel=parallel, backend=backend)
    layers = plan.n_gpu_layers if n_gpu_layers is None else n_gpu_layers
    return Model(path, n_gpu_layers=layers, devices=plan.devices, use_mmap=use_mmap,
                 placement=plan)


def start_engine(spec: ModelSpec, *, kind: str = "auto", num_ctx: int = 4096,
                 num_parallel: int = 4, num_batch: int = 512, num_thread: int | None = None,
                 flash_attn: bool | None = None, use_mmap: bool = True,
                 backend: str | None = None,
                 n_gpu_layers: int | None = None) -> tuple[Engine, str]:
    """The engine for ``spec`` (``kind``: auto, inprocess or subprocess; see
    ``engine/factory.py``) and why that kind. The in-process engine is placed by the backend
    plugins for ``num_ctx`` x ``num_parallel``; ``n_gpu_layers`` None keeps the plan's. The
    Modelfile's ADAPTERs are applied (scale 1) on either engine."""
    parallel = max(1, num_parallel)

    def place() -> backends.LoadPlan:
        return backends.place(spec.path, num_ctx=num_ctx, parallel=parallel, backend=backend)

    engine, reason = make_engine(kind, spec.path, backend=backend, place=place,
                                 num_ctx=num_ctx, num_parallel=parallel, num_batch=num_batch,
                                 num_thread=num_thread, flash_attn=flash_attn,
                                 use_mmap=use_mmap, n_gpu_layers=n_gpu_layers,
                                 adapters=[(str(a), 1.0) for a in spec.adapters])
    log.info("%s runs on the %s engine (%s)", spec.name, engine.kind, reason)
    return engine, reason
