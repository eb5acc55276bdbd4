"""Choose and start an engine: in-process by default, the llama-server child as fallback."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import LlmrtError, ModelLoadError, NativeBuildError
from .base import HOST_BACKEND, Engine

log = logging.getLogger("llmrt.engine")
KINDS = ("auto", "inprocess", "subprocess")


def make_engine(kind: str, path: str | Path, **kw: Any) -> tuple[Engine, str]:
    """Start an engine for ``path``; return it and why this kind was used."""
    if kind not in KINDS:
        raise LlmrtError(f"unknown engine {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "subprocess":
        return _tag(_subprocess(path, kw), "asked for (LLMRT_ENGINE=subprocess)")
    try:
        from .inprocess import InProcessEngine

        engine: Engine = InProcessEngine(path, **kw)
    except (NativeBuildError, ModelLoadError) as exc:
        if kind == "inprocess" or kw.get("backend") not in (None, "", HOST_BACKEND):
            raise  # an explicit backend fails loudly: the child would run it on the CPU
        reason = f"in-process engine unavailable ({exc}); using a llama-server child"
        log.warning("%s: %s", Path(path).name, reason)
        return _tag(_subprocess(path, kw), reason)
    return _tag(engine, "default" if kind == "auto" else "asked for (LLMRT_ENGINE=inprocess)")


def _tag(engine: Engine, reason: str) -> tuple[Engine, str]:
    engine.reason = reason
    return engine, reason


def _subprocess(path: str | Path, kw: dict[str, Any]) -> Engine:
    from .subprocess import SubprocessEngine

    return SubprocessEngine(path, **kw)
