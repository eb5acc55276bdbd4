"""The typed records that backend plugins and the manager pass around.

Every record is a frozen dataclass, so a probe result can be cached and shared between threads,
and ``dataclasses.asdict`` turns any of them into JSON for ``llmrt doctor --json``. Sizes are
bytes. Plugins build these; they never hand the manager loose dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Property = str | int | float | bool


class Status(StrEnum):
    """What a probe found."""

    AVAILABLE = "available"  #: the hardware (and driver) is there
    UNAVAILABLE = "unavailable"  #: no hardware, no driver, wrong platform: ``reason`` says which
    UNCONFIGURED = "unconfigured"  #: needs settings first (e.g. ``LLMRT_RPC_SERVERS``)


class DeviceKind(StrEnum):
    """What kind of device a record describes; CPU-kind devices are never offload targets."""

    CPU = "cpu"  #: a CPU, including software GPUs such as Mesa's lavapipe (llvmpipe)
    GPU = "gpu"  #: a discrete (or virtual) GPU
    IGPU = "igpu"  #: an integrated GPU sharing system memory
    ACCEL = "accel"  #: another accelerator
    REMOTE = "remote"  #: a device on another machine (ggml's RPC backend)


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """What a backend is, before anything is probed.

    ``name`` is unique across plugins (the manager rejects a duplicate); ``priority`` orders the
    automatic choice (highest first); ``libraries`` names the ggml backend libraries it needs,
    as file names in llmrt's native directory (patterns allowed, e.g. ``libggml-cpu-*.so``).
    Exactly one backend, the cpu plugin, is the ``host``: always loaded, never an offload target,
    and the fallback when nothing else fits.
    """

    name: str
    priority: int
    libraries: tuple[str, ...]
    description: str = ""
    host: bool = False


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """One device a probe found. ``index`` is its position in the backend's own device list,
    the order ggml enumerates them in once the backend library is loaded."""

    name: str
    kind: DeviceKind
    memory_total: int
    memory_free: int
    index: int = 0
    description: str = ""
    compute_capability: str | None = None
    features: tuple[str, ...] = ()
    properties: Mapping[str, Property] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A library a probe considered: the chosen one, a rejected one and why, or one not tried."""

    name: str
    path: str
    verdict: Literal["chosen", "rejected", "not tried"]
    reason: str


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of probing one backend. Build it with ``available``/``unavailable``/
    ``unconfigured``.

    ``libraries`` are the resolved paths the runtime loads with ``ggml_backend_load`` if the
    backend is chosen; ``load_blocker`` says why the runtime cannot load it although the hardware
    is there (the ggml library was not built, a binding is missing); ``''`` means nothing blocks
    it.
    """

    status: Status
    reason: str = ""
    devices: tuple[DeviceRecord, ...] = ()
    libraries: tuple[str, ...] = ()
    load_blocker: str = ""
    versions: Mapping[str, str] = field(default_factory=dict, hash=False)
    features: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    properties: Mapping[str, Property] = field(default_factory=dict, hash=False)

    @classmethod
    def available(cls, devices: Iterable[DeviceRecord], *, reason: str = "",
                  libraries: Iterable[str] = (), load_blocker: str = "",
                  versions: Mapping[str, str] | None = None, features: Iterable[str] = (),
                  candidates: Iterable[Candidate] = (),
                  properties: Mapping[str, Property] | None = None) -> ProbeResult:
        return cls(Status.AVAILABLE, reason, tuple(devices), tuple(libraries), load_blocker,
                   dict(versions or {}), tuple(features), tuple(candidates),
                   dict(properties or {}))

    @classmethod
    def unavailable(cls, reason: str, *, versions: Mapping[str, str] | None = None,
                    candidates: Iterable[Candidate] = ()) -> ProbeResult:
        return cls(Status.UNAVAILABLE, reason, versions=dict(versions or {}),
                   candidates=tuple(candidates))

    @classmethod
    def unconfigured(cls, reason: str) -> ProbeResult:
        return cls(Status.UNCONFIGURED, reason)

    @property
    def is_available(self) -> bool:
        return self.status is Status.AVAILABLE


@dataclass(frozen=True, slots=True)
class ModelSizes:
    """What placement needs to know about a GGUF model, read from its header.

    ``layer_bytes[i]`` is the size of repeating block ``i``'s weights; ``output_bytes`` the output
    head (the token embedding again when the model ties them); ``input_bytes`` the token
    embedding, which llama.cpp keeps on the host.
    """

    path: str
    architecture: str
    n_layer: int
    n_ctx_train: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim_k: int
    head_dim_v: int
    n_ff: int
    n_vocab: int
    layer_bytes: tuple[int, ...]
    output_bytes: int
    input_bytes: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a model's layers go: ``n_gpu_layers`` for ``llama_model_params`` (``n_layer + 1``
    also puts the output head on the devices) and ``devices``, indices into the backend's device
    list. ``n_gpu_layers == 0`` keeps everything on the host. The byte counts are the estimate
    the plan was made from; ``reason`` says it in one line. ``environment``: variables the
    backend's ggml library must see when it is loaded to offer the planned devices (ggml reads
    them once per process, at ``ggml_backend_load``), e.g. ``GGML_VK_VISIBLE_DEVICES`` for a
    CPU-type Vulkan device; the manager sets them around that load only."""

    backend: str
    devices: tuple[int, ...]
    n_gpu_layers: int
    n_layer: int
    num_ctx: int
    parallel: int
    weights_bytes: int = 0
    kv_bytes: int = 0
    compute_bytes: int = 0
    budget_bytes: int = 0
    reason: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        """Every layer and the output head are on the devices."""
        return self.n_gpu_layers > self.n_layer

    @property
    def used_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.compute_bytes
