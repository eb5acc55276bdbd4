"""The hooks a backend plugin implements. Every backend, built-in or not, is one of these plugins.

A plugin is a module (or any object) named by an entry point in the group ``llmrt.backends``.
llmrt registers each one under its entry-point name and calls each hook **on that plugin alone**,
so a plugin describes exactly one backend and never sees another plugin's calls. Probes run once
per process (the manager caches them) and must never raise: report trouble as
``ProbeResult.unavailable(reason)``; a probe that raises anyway is recorded as unavailable with
the exception as the reason. Code that ``dlopen``s a driver belongs in a child process with a
timeout (see ``llmrt.backends.plugins.cuda``): a crashing driver then costs a reason, not the
process.

A complete plugin, a module ``llmrt_backend_example.py``::

    from pathlib import Path

    from llmrt.backends import (BackendInfo, DeviceKind, DeviceRecord, ModelSizes, Placement,
                                ProbeResult, hookimpl, placement)

    LIBRARY = "libggml-example.so"


    @hookimpl
    def llmrt_backend_info() -> BackendInfo:
        return BackendInfo(name="example", priority=30, libraries=(LIBRARY,),
                           description="an accelerator that exists only in the docs")


    @hookimpl
    def llmrt_backend_probe(native_dir: Path) -> ProbeResult:
        device = DeviceRecord(name="Example0", kind=DeviceKind.ACCEL, memory_total=8 << 30,
                              memory_free=7 << 30, features=("fp16",))
        library = native_dir / LIBRARY
        if not library.exists():
            return ProbeResult.available([device], load_blocker=f"{LIBRARY} was not built")
        return ProbeResult.available([device], libraries=[str(library)],
                                     versions={"driver": "1.0"})


    @hookimpl
    def llmrt_backend_plan(probe: ProbeResult, model: ModelSizes, num_ctx: int,
                           parallel: int) -> Placement | None:
        return placement.plan("example", probe.devices, model, num_ctx=num_ctx,
                              parallel=parallel)

and its ``pyproject.toml``::

    [project]
    name = "llmrt-backend-example"
    version = "0.1.0"
    dependencies = ["llmrt"]

    [project.entry-points."llmrt.backends"]
    example = "llmrt_backend_example"

``pip install`` it and ``llmrt doctor`` lists it. ``LLMRT_DISABLE_BACKENDS=example`` turns it off
without importing it; ``LLMRT_BACKEND=example`` asks for it at model load.

Specs grow only by optional arguments (pluggy's opt-in arguments): an implementation may accept
any subset of a spec's parameters, so plugins written against an older llmrt keep working.
"""

from __future__ import annotations

from pathlib import Path

import pluggy

from .types import BackendInfo, ModelSizes, Placement, ProbeResult

PROJECT = "llmrt"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def llmrt_backend_info() -> BackendInfo:  # type: ignore[empty-body]
    """Describe the backend: its unique name, priority and the ggml libraries it needs.

    Purpose: the manager reads it once, when the plugin loads, to name the backend in
    ``llmrt doctor``, to order the automatic choice (highest ``priority`` first; built-ins use
    cuda 100, metal 90, vulkan 50, rpc 20, cpu 0) and to refuse a second plugin with the same
    name. It must be cheap and must not touch hardware.

    Parameters: none.

    Returns: a ``BackendInfo``. Required: a plugin without it is reported and skipped.

    firstresult: yes (the manager calls it on one plugin at a time and takes that one value).

    Added in: llmrt 0.1.0.
    """


@hookspec(firstresult=True)
def llmrt_backend_probe(native_dir: Path) -> ProbeResult:  # type: ignore[empty-body]
    """Probe the hardware: devices, memory, features, driver versions, and what to load.

    Purpose: say whether the backend can run here and on what. An available result lists its
    devices (memory total and free, compute capability or feature flags), the driver and runtime
    versions, and the resolved paths of the ggml libraries to load with ``ggml_backend_load``
    (empty with a ``load_blocker`` when they were not built). An unavailable or unconfigured
    result carries the reason. Never raises; runs at most once per process (cached by the
    manager) unless ``llmrt doctor`` asks again.

    Parameters:
        native_dir: the directory holding llmrt's built ggml libraries (``libggml-*.so``) and
            tools (``llama-server``, ``ggml-rpc-server``); look for the backend's libraries here.

    Returns: a ``ProbeResult``. Required.

    firstresult: yes (called on one plugin at a time).

    Added in: llmrt 0.1.0.
    """


@hookspec(firstresult=True)
def llmrt_backend_plan(probe: ProbeResult, model: ModelSizes, num_ctx: int, parallel: int,
                       explicit: bool) -> Placement | None:
    """Plan placement of a model on the backend's devices: which devices, how many layers.

    Purpose: decide how many of the model's layers to offload (``n_gpu_layers``) and onto which
    of the probed devices, given the model's tensor sizes, the context length and the number of
    parallel sequences. Optional: return ``None`` (or do not implement it) to get
    ``llmrt.backends.placement.plan``, which offloads as many layers as fit in the free memory
    of the non-CPU devices after a safety margin (CPU-type devices too when ``explicit``).
    Implement it when the backend knows better (unified memory, a per-device limit) or when its
    ggml library needs settings to offer a device: put them in ``Placement.environment`` and the
    manager sets them while it loads the library. Not called for the host (cpu) backend.

    Parameters:
        probe: this backend's own probe result (available, with devices).
        model: the model's sizes read from its GGUF header (per-layer weights, heads, vocab).
        num_ctx: context length per sequence, in tokens.
        parallel: number of sequences served at once; the KV cache holds
            ``num_ctx * parallel`` tokens.
        explicit: True when the user asked for this backend by name (``LLMRT_BACKEND``, the
            ``backend`` option of a request or Modelfile, ``llmrt run --backend``); only then
            may the plan use devices the automatic choice passes over, such as CPU-type ones
            (the manager never chooses a plan on CPU-type devices by itself). Added in llmrt
            0.1.0, after the others: an implementation may leave it out.

    Returns: a ``Placement`` whose ``devices`` index ``probe.devices``, or ``None``.

    firstresult: yes (called on one plugin at a time).

    Added in: llmrt 0.1.0.
    """
