"""``llmrt doctor``: what the backend plugins found, as a table or as JSON.

``collect`` builds one JSON-ready dict (the ``--json`` output); ``render`` draws it for people:
a table of backends (status, devices, memory, features, versions, why it cannot be used or is
never chosen automatically), the CPU variant candidates with each verdict, plugins that failed
to load or were disabled, and, with a model, the placement plan.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from llmrt.runtime.errors import LlmrtError
from rich.console import Console
from rich.table import Table

from llmrt import __version__

from . import model_sizes
from .manager import ENTRY_POINT_GROUP, BackendManager, BackendReport, get_manager

GiB = 1 << 30


def collect(manager: BackendManager | None = None, *, model: str | None = None,
            resolve: Callable[[str], Path] = Path, num_ctx: int = 4096,
            parallel: int = 1) -> dict[str, Any]:
    """Probe every backend afresh and describe it; plan ``model`` when given (``resolve``
    turns it into a GGUF path: the CLI passes the loader's resolver; the default takes a
    path)."""
    manager = manager or get_manager()
    out: dict[str, Any] = {
        "llmrt": __version__,
        "entry_point_group": ENTRY_POINT_GROUP,
        "backends": [_backend(r) for r in manager.reports(refresh=True)],
        "failed_plugins": [{**asdict(f.source), "error": f.error} for f in manager.failures],
        "disabled_plugins": [asdict(s) for s in manager.disabled],
    }
    if model is not None:
        out["placement"] = _placement(manager, model, resolve, num_ctx=num_ctx,
                                      parallel=parallel)
    return out


def _backend(r: BackendReport) -> dict[str, Any]:
    p = r.probe
    return {
        "name": r.info.name, "priority": r.info.priority, "host": r.info.host,
        "description": r.info.description, "needs": list(r.info.libraries),
        "plugin": asdict(r.source), "status": str(p.status), "reason": p.reason,
        "selectable": r.selectable, "why_not": r.why_not,
        "automatic": r.selectable and not r.auto_why_not, "auto_why_not": r.auto_why_not,
        "libraries": list(p.libraries),
        "load_blocker": p.load_blocker, "devices": [asdict(d) for d in p.devices],
        "versions": dict(p.versions), "features": list(p.features),
        "candidates": [asdict(c) for c in p.candidates], "properties": dict(p.properties),
    }


def _placement(manager: BackendManager, model: str, resolve: Callable[[str], Path], *,
               num_ctx: int, parallel: int) -> dict[str, Any]:
    try:
        path = resolve(model)
        sizes = model_sizes.read(path)
        selection = manager.select(sizes, num_ctx=num_ctx, parallel=parallel)
    except (LlmrtError, OSError, ValueError) as exc:
        return {"model": model, "error": str(exc)}
    return {"model": model, "path": str(path), "backend": selection.backend,
            "reason": selection.reason, "skipped": list(selection.skipped),
            "plan": asdict(selection.placement), "explain": selection.explain()}


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2)


def render(report: dict[str, Any], width: int | None = None) -> str:
    """The report as plain text: a table of backends, then each one's details."""
    width = width or max(100, shutil.get_terminal_size((120, 40)).columns)
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False,
                      soft_wrap=True)  # lines run long; tables still fit the width
    console.print(f"llmrt {report['llmrt']}: backends from entry points "
                  f"'{report['entry_point_group']}'")
    table = Table(show_lines=True, expand=True)
    for column, ratio in (("backend", None), ("status", None), ("devices", 1),
                          ("free / total", None), ("reason", 2)):
        table.add_column(column, ratio=ratio, no_wrap=ratio is None)
    for b in report["backends"]:
        table.add_row(f"{b['name']} ({b['priority']})", _status(b),
                      "\n".join(_device(d) for d in b["devices"]) or "-",
                      "\n".join(_memory(d) for d in b["devices"]) or "-", _notes(b))
    console.print(table)
    for b in report["backends"]:
        details = _details(b)
        if details:
            console.print(f"{b['name']}:")
            for line in details:
                console.print(f"  {line}")
        if b["candidates"]:
            variants = Table("candidate", "verdict", "why")
            for c in b["candidates"]:
                variants.add_row(c["name"], c["verdict"], c["reason"])
            console.print(variants)
    for f in report["failed_plugins"]:
        console.print(f"plugin {f['entry_point']} ({f['distribution']} {f['version']}) failed "
                      f"to load and was skipped: {f['error']}")
    for s in report["disabled_plugins"]:
        console.print(f"plugin {s['entry_point']} ({s['distribution']} {s['version']}) is "
                      "disabled by LLMRT_DISABLE_BACKENDS")
    if "placement" in report:
        p = report["placement"]
        console.print(f"placement for {p['model']}:")
        console.print(p.get("explain") or f"  cannot plan: {p['error']}")
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def _status(b: dict[str, Any]) -> str:
    if b["status"] != "available":
        return b["status"]
    return "available" if b["selectable"] else "available,\nnot selectable"


def _device(d: dict[str, Any]) -> str:
    extra = f", cc {d['compute_capability']}" if d["compute_capability"] else ""
    return f"{d['name']} [{d['kind']}{extra}]"


def _memory(d: dict[str, Any]) -> str:
    return f"{d['memory_free'] / GiB:.1f} / {d['memory_total'] / GiB:.1f} GiB"


def _notes(b: dict[str, Any]) -> str:
    notes = [b["reason"]] if b["reason"] else []
    if b["status"] == "available" and b["why_not"]:
        notes.append(f"not selectable: {b['why_not']}")
    elif b["selectable"] and not b["automatic"]:
        notes.append(f"not chosen automatically: {b['auto_why_not']}")
    return "\n".join(notes) or "-"


def _details(b: dict[str, Any]) -> list[str]:
    lines = [f"{k}: {v}" for k, v in {**b["versions"], **b["properties"]}.items()]
    if b["libraries"]:
        lines.append("loads: " + ", ".join(b["libraries"]))
    if b["features"]:
        lines.append("features: " + ", ".join(b["features"]))
    for d in b["devices"]:
        props = ", ".join(f"{k} {v}" for k, v in d["properties"].items())
        lines.append(f"{d['name']}: {props}" if props else d["name"])
        if d["features"] and list(d["features"]) != b["features"]:
            lines.append(f"{d['name']} features: " + ", ".join(d["features"]))
    return lines


def run(*, as_json: bool = False, model: str | None = None,
        resolve: Callable[[str], Path] = Path, num_ctx: int = 4096, parallel: int = 1) -> str:
    """What ``llmrt doctor`` prints."""
    report = collect(model=model, resolve=resolve, num_ctx=num_ctx, parallel=parallel)
    return to_json(report) if as_json else render(report)
