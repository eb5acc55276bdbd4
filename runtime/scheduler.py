"""Which models are loaded: load on first use, keep_alive expiry, eviction, queue limit, reloads.

Requests ``acquire`` a model by name and load options; they hold a lease while they run. A model
whose last lease ends stays loaded for its keep_alive (0 unloads at once, a negative value keeps it
forever). When ``max_loaded_models`` are loaded, the idle one that expires first is evicted. Load
options that differ from the loaded instance's (num_ctx, num_batch, num_thread, num_gpu,
main_gpu, use_mmap, backend) replace it once it is idle. More than ``max_queue`` requests
waiting → busy.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio

from .engine import Engine
from .engine.factory import make_engine
from .errors import LlmrtError
from .options import Options
from .store.info import ModelDetails

log = logging.getLogger("llmrt.scheduler")


class ServerBusy(LlmrtError):
    """Too many requests are waiting."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What a model name resolves to."""

    name: str
    path: Path
    digest: str = ""
    template: str | None = None
    system: str | None = None
    options: Options = field(default_factory=Options)
    messages: tuple[dict[str, Any], ...] = ()
    details: ModelDetails = field(default_factory=ModelDetails)


class Resolver(Protocol):
    def resolve(self, name: str) -> ModelSpec:
        """Raise ModelNotFound for an unknown name."""


@dataclass(frozen=True, slots=True)
class LoadOptions:
    num_ctx: int
    num_batch: int
    num_thread: int
    num_gpu: int
    main_gpu: int
    use_mmap: bool
    num_parallel: int
    backend: str = ""  # "": LLMRT_BACKEND, else the automatic choice

    @classmethod
    def from_options(cls, o: Options, *, default_ctx: int, num_parallel: int) -> LoadOptions:
        num_ctx = o.num_ctx if isinstance(o.num_ctx, int) else default_ctx
        return cls(num_ctx=max(4, num_ctx), num_batch=o.get("num_batch"),
                   num_thread=o.get("num_thread"), num_gpu=o.get("num_gpu"),
                   main_gpu=o.get("main_gpu"), use_mmap=o.get("use_mmap"),
                   num_parallel=num_parallel, backend=o.get("backend"))


@dataclass(slots=True)
class SchedulerConfig:
    keep_alive: float = 300.0
    num_parallel: int = 4
    max_loaded_models: int = 3
    max_queue: int = 512
    context_length: int = 4096
    flash_attn: bool | None = None
    engine: str = "auto"


def default_engine(spec: ModelSpec, lo: LoadOptions, config: SchedulerConfig) -> Engine:
    engine, reason = make_engine(config.engine, spec.path, num_ctx=lo.num_ctx,
                                 num_parallel=lo.num_parallel, num_batch=lo.num_batch,
                                 num_thread=lo.num_thread or None, flash_attn=config.flash_attn,
                                 use_mmap=lo.use_mmap, backend=lo.backend or None,
                                 n_gpu_layers=None if lo.num_gpu < 0 else lo.num_gpu)
    log.info("%s runs on the %s engine (%s)", spec.name, engine.kind, reason)
    return engine


@dataclass(eq=False)
class Runner:
    spec: ModelSpec
    load: LoadOptions
    engine: Engine
    keep_alive: float
    refs: int = 0
    expires_at: float = math.inf  # time.time() seconds; inf while in use or kept forever
    loaded_at: float = field(default_factory=time.time)
    load_duration: int = 0

    @property
    def key(self) -> str:
        return str(self.spec.path)


class Scheduler:
    def __init__(self, resolver: Resolver, config: SchedulerConfig | None = None,
                 engine_factory: Callable[[ModelSpec, LoadOptions, SchedulerConfig], Engine]
                 = default_engine) -> None:
        self.resolver = resolver
        self.config = config or SchedulerConfig()
        self._factory = engine_factory
        self._runners: dict[str, Runner] = {}
        self._load_lock = anyio.Lock()
        self._changed = anyio.Event()
        self._inflight = 0

    # ---- leases -------------------------------------------------------------------------

    @asynccontextmanager
    async def acquire(self, name: str, options: Options | None = None,
                      keep_alive: float | None = None) -> AsyncIterator[Runner]:
        """Hold a loaded model for one request; raises ModelNotFound, ServerBusy, load errors."""
        # requests beyond what the loaded models serve at once wait; at most max_queue of them
        serving = self.config.num_parallel * max(1, len(self._runners))
        if self._inflight >= serving + self.config.max_queue:
            raise ServerBusy("server busy, please try again.  maximum pending requests exceeded")
        self._inflight += 1
        try:
            spec = await anyio.to_thread.run_sync(self.resolver.resolve, name)
            merged = spec.options.merge(options)
            lo = LoadOptions.from_options(merged, default_ctx=self.config.context_length,
                                          num_parallel=self.config.num_parallel)
            runner = await self._get_runner(spec, lo, keep_alive)
            runner.refs += 1
            runner.expires_at = math.inf
            if keep_alive is not None:
                runner.keep_alive = keep_alive
            try:
                yield runner
            finally:
                with anyio.CancelScope(shield=True):  # also when the client went away
                    runner.refs -= 1
                    if runner.refs == 0:
                        await self._idle(runner)
        finally:
            self._inflight -= 1

    async def _get_runner(self, spec: ModelSpec, lo: LoadOptions,
                          keep_alive: float | None) -> Runner:
        async with self._load_lock:  # one load at a time, as Ollama does
            while True:
                r = self._runners.get(str(spec.path))
                if r is not None and not r.engine.alive:  # e.g. its llama-server child died
                    log.warning("%s: engine is gone; starting a new one", spec.name)
                    await self._unload(r)
                    continue
                if r is not None and r.load == lo:
                    return r
                if r is not None:  # same model, other load options: replace it when idle
                    if r.refs == 0:
                        await self._unload(r)
                        continue
                    await self._wait_change()
                    continue
                if len(self._runners) >= self.config.max_loaded_models:
                    victim = self._victim()
                    if victim is None:
                        await self._wait_change()
                        continue
                    await self._unload(victim)
                    continue
                t0 = time.perf_counter_ns()
                log.info("loading %s (%s)", spec.name, lo)
                engine = await anyio.to_thread.run_sync(self._factory, spec, lo, self.config)
                runner = Runner(spec, lo, engine, keep_alive if keep_alive is not None
                                else self.config.keep_alive)
                runner.load_duration = time.perf_counter_ns() - t0
                self._runners[runner.key] = runner
                return runner

    def _victim(self) -> Runner | None:
        idle = [r for r in self._runners.values() if r.refs == 0]
        return min(idle, key=lambda r: (r.expires_at, r.key)) if idle else None

    async def _wait_change(self) -> None:
        self._load_lock.release()
        try:
            await self._changed.wait()
        finally:
            await self._load_lock.acquire()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def _idle(self, runner: Runner) -> None:
        if runner.keep_alive == 0:
            await self._unload(runner)
        elif runner.keep_alive < 0 or math.isinf(runner.keep_alive):
            runner.expires_at = math.inf
        else:
            runner.expires_at = time.time() + runner.keep_alive
        self._signal()

    async def _unload(self, runner: Runner) -> None:
        if self._runners.get(runner.key) is runner:
            del self._runners[runner.key]
            log.info("unloading %s", runner.spec.name)
            with anyio.CancelScope(shield=True):
                await runner.engine.close()
            self._signal()

    # ---- management ---------------------------------------------------------------------

    async def unload(self, name: str) -> bool:
        """Unload a model now if it is idle, else as soon as its requests finish."""
        spec = await anyio.to_thread.run_sync(self.resolver.resolve, name)
        r = self._runners.get(str(spec.path))
        if r is None:
            return False
        r.keep_alive = 0
        if r.refs == 0:
            await self._unload(r)
        return True

    def loaded(self) -> list[Runner]:
        return list(self._runners.values())

    async def expire_loop(self, interval: float = 0.5) -> None:
        """Unload idle models whose keep_alive ran out. Runs for the server's lifetime."""
        while True:
            now = time.time()
            for r in list(self._runners.values()):
                if r.refs == 0 and r.expires_at <= now:
                    await self._unload(r)
            await anyio.sleep(interval)

    async def close(self) -> None:
        for r in list(self._runners.values()):
            await self._unload(r)


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_keep_alive(value: float | int | str | None) -> float | None:
    """Ollama's keep_alive: seconds as a number, or a Go duration string ("5m", "1h30m",
    "-1m"); negative means forever (returned as inf). None stays None (use the default)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("keep_alive must be a number or a duration string")
    if isinstance(value, int | float):
        secs = float(value)
    else:
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        body = text.lstrip("+-")
        if re.fullmatch(r"\d+(\.\d+)?", body):
            secs = float(body)
        else:
            parts = _PART.findall(body)
            if not parts or "".join(n + u for n, u in parts) != body:
                raise ValueError(f"invalid duration {value!r}")
            secs = sum(float(n) * _UNITS[u] for n, u in parts)
        secs *= sign
    return math.inf if secs < 0 else secs
