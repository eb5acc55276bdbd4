"""Backend plugins defined in the test suite, for hardware these machines do not have.

Each module-level object is a real pluggy plugin that a real ``importlib.metadata.EntryPoint``
can name (``ep("gpu24")``); only what it reports is made up.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

from llmrt.backends import (
    BackendInfo,
    DeviceKind,
    DeviceRecord,
    ModelSizes,
    Placement,
    ProbeResult,
    hookimpl,
)
from llmrt.backends.manager import ENTRY_POINT_GROUP

GiB = 1 << 30


def ep(name: str) -> EntryPoint:
    """An entry point for a built-in plugin (cpu, cuda, ...) or one defined here."""
    if name in ("cpu", "cuda", "metal", "vulkan", "rpc"):
        return EntryPoint(name, f"llmrt.backends.plugins.{name}", ENTRY_POINT_GROUP)
    return EntryPoint(name, f"{__name__}:{name}", ENTRY_POINT_GROUP)


class FakeGPU:
    """A GPU backend with the given devices; 'library' is any existing file."""

    def __init__(self, name: str, priority: int, devices: list[DeviceRecord],
                 library: str | None = __file__) -> None:
        self.name, self.priority, self.devices, self.library = name, priority, devices, library

    @hookimpl
    def llmrt_backend_info(self) -> BackendInfo:
        return BackendInfo(name=self.name, priority=self.priority, libraries=("libfake.so",))

    @hookimpl
    def llmrt_backend_probe(self, native_dir: Path) -> ProbeResult:
        if self.library is None:
            return ProbeResult.available(self.devices, load_blocker="libfake.so was not built")
        return ProbeResult.available(self.devices, libraries=[self.library])


def gpu(memory_gib: float, kind: DeviceKind = DeviceKind.GPU, name: str = "") -> DeviceRecord:
    size = int(memory_gib * GiB)
    return DeviceRecord(name=name or f"Fake {memory_gib:g} GiB", kind=kind, memory_total=size,
                        memory_free=size)


gpu24 = FakeGPU("gpu24", 100, [gpu(24)])
gpu4 = FakeGPU("gpu4", 60, [gpu(4)])
tiny = FakeGPU("tiny", 200, [gpu(0.5)])  # less than the safety margin: nothing fits
unbuilt = FakeGPU("unbuilt", 300, [gpu(80)], library=None)
softgpu = FakeGPU("softgpu", 400, [gpu(64, DeviceKind.CPU, "llvmpipe")])
zz_dup = FakeGPU("gpu24", 10, [gpu(1)])  # loads after gpu24 and claims its name


class Raising:
    @hookimpl
    def llmrt_backend_info(self) -> BackendInfo:
        return BackendInfo(name="raising", priority=500, libraries=())

    @hookimpl
    def llmrt_backend_probe(self, native_dir: Path) -> ProbeResult:
        raise RuntimeError("the driver is on fire")


class WrongType:
    @hookimpl
    def llmrt_backend_info(self) -> BackendInfo:
        return BackendInfo(name="wrongtype", priority=500, libraries=())

    @hookimpl
    def llmrt_backend_probe(self, native_dir: Path) -> dict[str, str]:
        return {"status": "available"}


class HalfPlan(FakeGPU):
    """Plans by itself: always 3 layers on its first device."""

    @hookimpl
    def llmrt_backend_plan(self, probe: ProbeResult, model: ModelSizes, num_ctx: int,
                           parallel: int) -> Placement:
        return Placement(backend=self.name, devices=(0,), n_gpu_layers=3, n_layer=model.n_layer,
                         num_ctx=num_ctx, parallel=parallel, reason="three layers, always")


class Misspelt:
    @hookimpl
    def llmrt_backend_info(self) -> BackendInfo:
        return BackendInfo(name="misspelt", priority=1, libraries=())

    @hookimpl
    def llmrt_backend_prob(self, native_dir: Path) -> ProbeResult:  # sic
        return ProbeResult.unavailable("never called")


raising = Raising()
wrongtype = WrongType()
halfplan = HalfPlan("halfplan", 150, [gpu(24)])
misspelt = Misspelt()


class HostAlias(FakeGPU):
    """Claims the host's own CPU device as an offload target, with the CPU variant already loaded
    as its library: exercises the whole load path (ggml_backend_load, device mapping,
    llama_model_params.devices and n_gpu_layers) on a machine without a GPU."""

    @hookimpl
    def llmrt_backend_probe(self, native_dir: Path) -> ProbeResult:
        from llmrt.runtime import native

        library = native_dir / f"libggml-cpu-{native.ensure_backends()}.so"
        return ProbeResult.available(self.devices, libraries=[str(library)])


hostalias = HostAlias("hostalias", 1, [gpu(24, name="CPU")])
