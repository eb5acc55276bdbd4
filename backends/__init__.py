"""Hardware backends: pluggy plugins that probe devices and place models on them.

The rest of llmrt calls these functions (or ``get_manager()``), never pluggy::

    from llmrt import backends
    for r in backends.reports():
        print(r.info.name, r.probe.status, r.probe.reason)

Plugins implement the hooks in ``llmrt.backends.hookspecs`` with the ``hookimpl`` marker and
return the records of ``llmrt.backends.types``.
"""

from __future__ import annotations

import os

from .hookspecs import hookimpl
from .manager import (
    BackendManager,
    BackendReport,
    LoadPlan,
    PluginFailure,
    PluginLoadError,
    PluginSource,
    Selection,
    get_manager,
)
from .types import (
    BackendInfo,
    Candidate,
    DeviceKind,
    DeviceRecord,
    ModelSizes,
    Placement,
    ProbeResult,
    Status,
)

__all__ = [
    "BackendInfo", "BackendManager", "BackendReport", "Candidate", "DeviceKind", "DeviceRecord",
    "LoadPlan", "ModelSizes", "Placement", "PluginFailure", "PluginLoadError", "PluginSource",
    "ProbeResult", "Selection", "Status", "get_manager", "hookimpl", "place", "reports",
    "select",
]


def reports(*, refresh: bool = False) -> list[BackendReport]:
    """Every backend, probed (cached unless ``refresh``), highest priority first."""
    return get_manager().reports(refresh=refresh)


def select(model: ModelSizes | None, *, num_ctx: int, parallel: int = 1,
           backend: str | None = None) -> Selection:
    """The backend and placement for ``model``; see ``BackendManager.select``."""
    return get_manager().select(model, num_ctx=num_ctx, parallel=parallel, backend=backend)


def place(model_path: str | os.PathLike[str], *, num_ctx: int, parallel: int = 1,
          backend: str | None = None) -> LoadPlan:
    """Select the backend for the GGUF at ``model_path`` and load it; see
    ``BackendManager.place``."""
    return get_manager().place(model_path, num_ctx=num_ctx, parallel=parallel, backend=backend)
