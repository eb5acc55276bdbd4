"""Choose and start an engine: in-process by default, the llama-server child as fallback.

The loader (``runtime/loader.py``) calls this with the model's path, the engine settings and
``place``: how to ask the backend plugins for the in-process engine's placement. Nothing here
imports the compiled module until an in-process engine is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LlmrtError, ModelLoadError, NativeBuildError
from .base import HOST_BACKEND, Engine

if TYPE_CHECKING:
    from llmrt.backends import LoadPlan

log = logging.getLogger("llmrt.engine")
KINDS = ("auto", "inprocess", "subprocess")


def make_engine(kind: str, path: str | Path, *, backend: str | None = None,
                place: Callable[[], LoadPlan] | None = None,
                **kw: Any) -> tuple[Engine, str]:
    """Start an engine for ``path``; return it and why this kind was used. ``backend``: the
    backend asked for by name (the llama-server child refuses any but the host's); ``place()``
    plans and loads the backend for the in-process engine (None: the host)."""
    if kind not in KINDS:
        raise LlmrtError(f"unknown engine {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "subprocess":
        return _tag(_subprocess(path, backend, kw), "asked for (LLMRT_ENGINE=subprocess)")
    try:
        from .inprocess import InProcessEngine  # imports the binding: NativeBuildError if broken

        engine: Engine = InProcessEngine(path, placement=place() if place else None, **kw)
    except (NativeBuildError, ModelLoadError) as exc:
        if kind == "inprocess" or backend not in (None, "", HOST_BACKEND):
            raise  # an explicit backend fails loudly: the child would run it on the CPU
        reason = f"in-process engine unavailable ({exc}); using a llama-server child"
        log.warning("%s: %s", Path(path).name, reason)
        return _tag(_subprocess(path, backend, kw), reason)
    return _tag(engine, "default" if kind == "auto" else "asked for (LLMRT_ENGINE=inprocess)")


def _tag(engine: Engine, reason: str) -> tuple[Engine, str]:
    engine.reason = reason
    return engine, reason


def _subprocess(path: str | Path, backend: str | None, kw: dict[str, Any]) -> Engine:
    from .subprocess import SubprocessEngine

    return SubprocessEngine(path, backend=backend, **kw)
