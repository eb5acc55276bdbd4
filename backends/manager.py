"""The backend manager: the one typed facade over pluggy. Nothing else touches ``pm.hook``.

It loads every entry point of the group ``llmrt.backends`` (built-ins and third-party plugins
alike) one at a time: a plugin that fails to import, register or describe itself is recorded
with its name and distribution version and skipped, unless ``LLMRT_PLUGINS_STRICT=1`` asks for
the error. ``LLMRT_DISABLE_BACKENDS=name,...`` skips the named entry points without importing
them. Probe results are cached for the life of the manager.

At model load ``select`` picks the backend: an explicit choice (argument, else
``LLMRT_BACKEND``) wins or fails loudly, and only it may plan on CPU-type devices; otherwise the
highest-priority selectable backend whose placement offloads at least one layer onto devices
that are not CPU-type (a software GPU such as lavapipe is used only when asked for); otherwise
the host (cpu). ``load`` then loads the host's library and the chosen backend's with
``ggml_backend_load`` (with the placement's ``environment`` set for that call only) and maps
the planned devices to ggml's device indices for ``llama_model_params``; a model on the host
gets an empty device list, so a GPU backend loaded for another model stays out of its way.
``place`` does both for a GGUF path (its sizes read from the header): the loader's one call.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pluggy
from llmrt.runtime._bindings.location import NATIVE_DIR
from llmrt.runtime.errors import BackendError

from . import hookspecs, model_sizes, placement
from .types import BackendInfo, DeviceKind, DeviceRecord, ModelSizes, Placement, ProbeResult

log = logging.getLogger("llmrt.backends")

ENTRY_POINT_GROUP = "llmrt.backends"
ENV_BACKEND = "LLMRT_BACKEND"
ENV_DISABLE = "LLMRT_DISABLE_BACKENDS"
ENV_STRICT = "LLMRT_PLUGINS_STRICT"


class PluginLoadError(BackendError):
    """A backend plugin failed to load while ``LLMRT_PLUGINS_STRICT`` was set."""


@dataclass(frozen=True, slots=True)
class PluginSource:
    """Where a plugin came from: its entry point and the distribution that declared it."""

    entry_point: str
    value: str
    distribution: str
    version: str

    @classmethod
    def of(cls, ep: EntryPoint) -> PluginSource:
        dist = getattr(ep, "dist", None)
        return cls(ep.name, ep.value, dist.name if dist else "", dist.version if dist else "")

    def __str__(self) -> str:
        if not self.distribution:
            return f"{self.entry_point} ({self.value})"
        return f"{self.entry_point} ({self.distribution} {self.version})"


@dataclass(frozen=True, slots=True)
class PluginFailure:
    source: PluginSource
    error: str


@dataclass(frozen=True, slots=True)
class BackendReport:
    """One backend as ``llmrt doctor`` shows it: what it is, where from, what its probe found."""

    info: BackendInfo
    source: PluginSource
    probe: ProbeResult

    @property
    def selectable(self) -> bool:
        return not self.why_not

    @property
    def why_not(self) -> str:
        """Why the runtime cannot use this backend now; ``''`` when it can."""
        if not self.probe.is_available:
            return f"{self.probe.status}: {self.probe.reason}"
        if self.probe.load_blocker:
            return self.probe.load_blocker
        if not self.probe.libraries:
            return "its probe names no ggml library to load"
        return ""

    @property
    def auto_why_not(self) -> str:
        """Why the automatic choice never picks this backend, whatever the model; ``''`` when
        it may (given a plan that fits). Asking for it by name still works when selectable."""
        if self.info.host:
            return ""
        if not self.selectable:
            return self.why_not
        cpu_like = [d.name for d in self.probe.devices if d.kind is DeviceKind.CPU]
        if cpu_like and len(cpu_like) == len(self.probe.devices):
            return (f"its only devices are CPU-type ({', '.join(cpu_like)}), slower than the "
                    f"cpu backend: used only when asked for by name ({ENV_BACKEND}, the "
                    "backend option, llmrt run --backend)")
        return ""


@dataclass(frozen=True, slots=True)
class Selection:
    """The backend chosen for a model, its placement, and why (``skipped``: the others).
    ``sizes``: the model's sizes the plan was made from (None when unreadable)."""

    backend: str
    placement: Placement
    reason: str
    skipped: tuple[str, ...] = ()
    sizes: ModelSizes | None = None

    def explain(self) -> str:
        lines = [f"backend {self.backend}: {self.reason}", placement.explain(self.placement)]
        lines += [f"  not {s}" for s in self.skipped]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What ``llama_model_params`` gets: ggml device indices (empty: the host alone) and
    ``n_gpu_layers``."""

    selection: Selection
    devices: tuple[int, ...]
    n_gpu_layers: int


@dataclass(slots=True)
class _Plugin:
    obj: Any
    info: BackendInfo
    source: PluginSource


class BackendManager:
    """Loads the backend plugins and answers for them. Use ``get_manager()`` for the shared one;
    build one directly (with ``eps``/``env``) to test a particular set of plugins."""

    def __init__(self, native_dir: Path, *, env: Mapping[str, str] | None = None,
                 eps: Iterable[EntryPoint] | None = None) -> None:
        self.native_dir = native_dir
        self.env = os.environ if env is None else env
        self.failures: list[PluginFailure] = []
        self.disabled: list[PluginSource] = []
        self._plugins: dict[str, _Plugin] = {}
        self._probes: dict[str, ProbeResult] = {}
        self._host_variant: str | None = None
        self._lock = threading.RLock()
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        found = entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps
        strict = self.env.get(ENV_STRICT, "").lower() in ("1", "true", "yes")
        blocked = {n.strip() for n in self.env.get(ENV_DISABLE, "").split(",") if n.strip()}
        for ep in sorted(found, key=lambda e: e.name):
            self._load(ep, blocked, strict)

    # -- plugins ---------------------------------------------------------------------------

    def _load(self, ep: EntryPoint, blocked: set[str], strict: bool) -> None:
        source = PluginSource.of(ep)
        if ep.name in blocked:
            self.disabled.append(source)
            log.info("backend plugin %s disabled by %s", source, ENV_DISABLE)
            return
        obj = None
        try:
            obj = ep.load()
            self._pm.register(obj, name=ep.name)
            self._pm.check_pending()  # a misspelt llmrt_* hook fails here, on its own plugin
            info = self._call(obj, "llmrt_backend_info")
            if not isinstance(info, BackendInfo):
                raise TypeError(f"llmrt_backend_info returned {info!r}, not a BackendInfo")
            if info.name in self._plugins:
                raise ValueError(f"backend name {info.name!r} is already taken by "
                                 f"{self._plugins[info.name].source}")
        except Exception as exc:
            if obj is not None and self._pm.is_registered(obj):
                self._pm.unregister(obj)
            error = f"{type(exc).__name__}: {exc}"
            self.failures.append(PluginFailure(source, error))
            log.warning("backend plugin %s failed to load and is skipped: %s", source, error)
            if strict:
                raise PluginLoadError(f"backend plugin {source} failed to load: {error}") from exc
            return
        if info.name in blocked:
            self._pm.unregister(obj)
            self.disabled.append(source)
            return
        self._plugins[info.name] = _Plugin(obj, info, source)

    def _call(self, obj: Any, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` on plugin ``obj`` alone."""
        others = [p for p in self._pm.get_plugins() if p is not obj]
        return self._pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)

    @property
    def names(self) -> list[str]:
        """Backend names, highest priority first."""
        return [p.info.name for p in sorted(self._plugins.values(),
                                             key=lambda p: (-p.info.priority, p.info.name))]

    def info(self, name: str) -> BackendInfo:
        return self._plugin(name).info

    def _plugin(self, name: str) -> _Plugin:
        try:
            return self._plugins[name]
        except KeyError:
            raise BackendError(f"no backend named {name!r}; known: "
                               f"{', '.join(self.names) or 'none'}") from None

    # -- probes ----------------------------------------------------------------------------

    def probe(self, name: str, *, refresh: bool = False) -> ProbeResult:
        """The backend's probe result (cached). Never raises for a misbehaving probe."""
        plugin = self._plugin(name)
        with self._lock:
            if not refresh and name in self._probes:
                return self._probes[name]
            try:
                result = self._call(plugin.obj, "llmrt_backend_probe", native_dir=self.native_dir)
                if not isinstance(result, ProbeResult):
                    result = ProbeResult.unavailable(
                        f"its probe returned {type(result).__name__}, not a ProbeResult")
            except Exception as exc:
                log.warning("backend %s: probe raised", name, exc_info=True)
                result = ProbeResult.unavailable(f"its probe raised {type(exc).__name__}: {exc}")
            self._probes[name] = result
            log.info("backend %s: %s%s", name, result.status,
                     f" ({result.reason})" if result.reason else "")
            return result

    def report(self, name: str, *, refresh: bool = False) -> BackendReport:
        plugin = self._plugin(name)
        return BackendReport(plugin.info, plugin.source, self.probe(name, refresh=refresh))

    def reports(self, *, refresh: bool = False) -> list[BackendReport]:
        """Every loaded backend, probed, highest priority first."""
        return [self.report(n, refresh=refresh) for n in self.names]

    def host(self) -> BackendReport:
        hosts = [p.info.name for p in self._plugins.values() if p.info.host]
        if not hosts:
            raise BackendError(
                f"no host (cpu) backend is registered: the {ENTRY_POINT_GROUP} entry points are "
                f"missing (reinstall llmrt) or {ENV_DISABLE} disables it")
        return self.report(hosts[0])

    # -- placement and selection -----------------------------------------------------------

    def plan(self, name: str, model: ModelSizes, *, num_ctx: int, parallel: int = 1,
             explicit: bool = False) -> Placement:
        """``name``'s plan for ``model``; ``explicit``: the user asked for it by name."""
        report = self.report(name)
        if report.info.host or not report.probe.is_available:
            return placement.host(name, model.n_layer, num_ctx=num_ctx, parallel=parallel)
        try:
            planned = self._call(self._plugin(name).obj, "llmrt_backend_plan",
                                 probe=report.probe, model=model, num_ctx=num_ctx,
                                 parallel=parallel, explicit=explicit)
        except Exception as exc:
            log.warning("backend %s: plan raised", name, exc_info=True)
            return placement.host(name, model.n_layer, num_ctx=num_ctx, parallel=parallel,
                                  reason=f"its plan raised {type(exc).__name__}: {exc}")
        if planned is None:
            planned = placement.plan(name, report.probe.devices, model, num_ctx=num_ctx,
                                     parallel=parallel, include_cpu=explicit)
        return planned

    def select(self, model: ModelSizes | None, *, num_ctx: int, parallel: int = 1,
               backend: str | None = None) -> Selection:
        """Choose the backend for ``model`` (``None``: its sizes are unknown; host only)."""
        host = self.host()
        n_layer = model.n_layer if model else 0
        explicit = backend or self.env.get(ENV_BACKEND) or None
        origin = "asked for" if backend else f"{ENV_BACKEND}={explicit}"
        if explicit:
            return self._explicit(explicit, origin, model, num_ctx=num_ctx, parallel=parallel)
        skipped = []
        for r in self.reports():
            if r.info.host:
                continue
            if not r.selectable:
                skipped.append(f"{r.info.name}: {r.why_not}")
                continue
            if model is None:
                skipped.append(f"{r.info.name}: the model's sizes are unknown")
                continue
            planned = self.plan(r.info.name, model, num_ctx=num_ctx, parallel=parallel)
            cpu_like = [d.name for i, d in enumerate(r.probe.devices)
                        if i in planned.devices and d.kind is DeviceKind.CPU]
            if cpu_like:  # software GPUs (lavapipe) only when asked for by name
                skipped.append(f"{r.info.name}: its plan uses CPU-type devices "
                               f"({', '.join(cpu_like)}); ask for it explicitly")
            elif planned.n_gpu_layers > 0:
                return Selection(r.info.name, planned, "the highest-priority available backend "
                                 "that fits", tuple(skipped), model)
            else:
                skipped.append(f"{r.info.name}: {planned.reason}")
        name = host.info.name
        return Selection(name, placement.host(name, n_layer, num_ctx=num_ctx, parallel=parallel),
                         "no other backend is available and fits", tuple(skipped), model)

    def _explicit(self, name: str, origin: str, model: ModelSizes | None, *, num_ctx: int,
                  parallel: int) -> Selection:
        """An explicit choice wins, or fails with the reason: never a silent fallback."""
        chosen = self.report(name)
        if not chosen.selectable:
            raise BackendError(f"backend {name!r} ({origin}) cannot be used: {chosen.why_not}")
        n_layer = model.n_layer if model else 0
        if chosen.info.host or model is None:
            return Selection(name, placement.host(name, n_layer, num_ctx=num_ctx,
                                                  parallel=parallel), origin, sizes=model)
        planned = self.plan(name, model, num_ctx=num_ctx, parallel=parallel, explicit=True)
        if planned.n_gpu_layers == 0:
            raise BackendError(f"backend {name!r} ({origin}) cannot hold a single layer: "
                               f"{planned.reason}")
        return Selection(name, planned, origin, sizes=model)

    # -- loading ---------------------------------------------------------------------------

    def place(self, model_path: str | os.PathLike[str], *, num_ctx: int, parallel: int = 1,
              backend: str | None = None) -> LoadPlan:
        """Choose the backend and placement for the GGUF at ``model_path`` and load the
        backend's library: ``select`` then ``load``. A header the planner cannot read keeps the
        model on the host; llama.cpp then reports what is wrong with the file."""
        try:
            sizes = model_sizes.read(model_path)
        except (OSError, ValueError) as exc:
            log.info("placement: cannot read the sizes of %s (%s); using the host", model_path,
                     exc)
            sizes = None
        selection = self.select(sizes, num_ctx=num_ctx, parallel=parallel, backend=backend)
        log.info("placement for %s:\n%s", model_path, selection.explain())
        return self.load(selection)

    def host_variant(self) -> str:
        """What the host backend loads (the CPU variant its probe chose), without loading it:
        the llama.cpp tools need it even when the compiled module cannot be imported."""
        host = self.host()
        if not host.selectable:
            raise BackendError(f"the host backend {host.info.name} cannot be used: "
                               f"{host.why_not}")
        return str(host.probe.properties.get("variant", host.info.name))

    def ensure_host(self) -> str:
        """Load the host backend's library (once); return what it loaded (the CPU variant)."""
        with self._lock:
            if self._host_variant is not None:
                return self._host_variant
            variant = self.host_variant()
            from llmrt.runtime._bindings import backend as ggml  # loads llama.cpp: only here

            for path in self.host().probe.libraries:
                ggml.load_backend(path)
            self._host_variant = variant
            return variant

    def load(self, selection: Selection) -> LoadPlan:
        """Load what ``selection`` needs; map its placement to ggml device indices."""
        self.ensure_host()
        chosen = self.report(selection.backend)
        p = selection.placement
        if chosen.info.host or p.n_gpu_layers == 0:
            return LoadPlan(selection, (), 0)
        from llmrt.runtime._bindings import backend as ggml

        with self._lock:
            loaded = ggml.loaded_backends()
            if p.environment and all(path in loaded for path in chosen.probe.libraries):
                log.info("backend %s: already loaded; ggml read its settings then, not %s",
                         selection.backend, dict(p.environment))
            with _environment(p.environment):
                registries = {ggml.load_backend(path) for path in chosen.probe.libraries}
        ggml_devices = [d for d in ggml.devices() if d.backend in registries]
        indices = []
        for i in p.devices:
            record = chosen.probe.devices[i]
            match = _match_device(record, ggml_devices)
            if match is None:
                hint = (f" (ggml reads {', '.join(p.environment)} once, when a process first "
                        "loads the library)" if p.environment else "")
                raise BackendError(f"backend {selection.backend}: ggml does not list device "
                                   f"{record.name!r} after loading {chosen.probe.libraries}"
                                   f"{hint}")
            indices.append(match)
        return LoadPlan(selection, tuple(indices), p.n_gpu_layers)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in the process environment (what the C library's ``getenv`` sees) for the
    block only, so that no child process or later load inherits them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _match_device(record: DeviceRecord, ggml_devices: list[Any]) -> int | None:
    """ggml describes a device by the driver's name for it; fall back to the probe's order."""
    for d in ggml_devices:
        if record.name in (d.description, d.name):
            return int(d.index)
    return int(ggml_devices[record.index].index) if record.index < len(ggml_devices) else None


_shared: BackendManager | None = None
_shared_lock = threading.Lock()


def get_manager() -> BackendManager:
    """The process's manager, built on first use over llmrt's native directory."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BackendManager(NATIVE_DIR)
        return _shared


def reset_manager() -> None:
    """Forget the shared manager (plugins, cached probes); libraries already loaded stay."""
    global _shared
    with _shared_lock:
        _shared = None
