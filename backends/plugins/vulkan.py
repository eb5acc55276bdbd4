"""The vulkan backend: GPUs through ggml's Vulkan backend (``libggml-vulkan.so``).

The probe opens the Vulkan loader (cffi ABI mode, in a child process with a timeout) and lists
every physical device with its type, API and driver versions, memory heaps and the extensions
ggml's Vulkan backend uses. Software devices such as Mesa's lavapipe (llvmpipe) are reported as
CPU-type devices: available, but never chosen automatically. ``LLMRT_VULKAN_LIBRARY`` names
the loader to open instead of the usual one. Selectable only when ``libggml-vulkan.so`` was built.

Placement follows ggml's own device choice: every discrete GPU, else the first other non-CPU
device; or exactly the devices ``GGML_VK_VISIBLE_DEVICES`` names, CPU-type ones included. When
vulkan is asked for by name (``LLMRT_BACKEND=vulkan``, the ``backend`` option, ``llmrt run
--backend vulkan``) and there is no other device, the plan takes the first CPU-type one and
sets ``GGML_VK_VISIBLE_DEVICES`` to it in ``Placement.environment`` (ggml-vulkan skips CPU-type
devices unless that variable names them): lavapipe runs with nothing else to set.
"""

from __future__ import annotations

import dataclasses
import os
import platform
from pathlib import Path
from typing import Any

from .. import _child, placement
from ..hookspecs import hookimpl
from ..types import BackendInfo, DeviceKind, DeviceRecord, ModelSizes, Placement, ProbeResult

NAME = "vulkan"
LIBRARY = "libggml-vulkan.so"
ENV_LIBRARY = "LLMRT_VULKAN_LIBRARY"
ENV_VISIBLE = "GGML_VK_VISIBLE_DEVICES"  # read by ggml's Vulkan backend itself
CHILD = Path(__file__).with_name("_vulkan_child.py")
TIMEOUT_S = 30.0
KINDS = {"discrete": DeviceKind.GPU, "virtual": DeviceKind.GPU, "integrated": DeviceKind.IGPU,
         "cpu": DeviceKind.CPU, "other": DeviceKind.ACCEL}
LOADERS = {"Linux": ["libvulkan.so.1", "libvulkan.so"],
           "Darwin": ["libvulkan.1.dylib", "libMoltenVK.dylib"],
           "Windows": ["vulkan-1.dll"]}


@hookimpl
def llmrt_backend_info() -> BackendInfo:
    return BackendInfo(name=NAME, priority=50, libraries=(LIBRARY,),
                       description="GPUs through ggml's Vulkan backend")


@hookimpl
def llmrt_backend_probe(native_dir: Path) -> ProbeResult:
    forced = os.environ.get(ENV_LIBRARY)
    loaders = [forced] if forced else LOADERS.get(platform.system(), [])
    if not loaders:
        return ProbeResult.unavailable(f"no Vulkan loader is known for {platform.system()}")
    try:
        found = _child.run(CHILD, *loaders, timeout=TIMEOUT_S)
    except _child.ChildFailed as exc:
        return ProbeResult.unavailable(f"Vulkan probe failed: {exc}")
    if not found.get("ok"):
        return ProbeResult.unavailable(str(found.get("reason", "Vulkan probe failed")))
    versions = {"instance": str(found["instance_version"]), "loader": str(found["library"])}
    devices = [_record(d) for d in found["devices"]]
    if not devices:
        return ProbeResult.unavailable("the Vulkan loader reports no physical devices",
                                       versions=versions)
    library = native_dir / LIBRARY
    kinds = ", ".join(f"{d.name} ({d.properties['type']})" for d in devices)
    if any(d.kind is DeviceKind.CPU for d in devices):
        kinds += "; CPU-type devices are never chosen automatically, only asked for by name"
    return ProbeResult.available(
        devices, reason=f"{len(devices)} device(s): {kinds}",
        libraries=[str(library)] if library.exists() else [],
        load_blocker="" if library.exists() else f"{LIBRARY} was not built (GGML_VULKAN=ON)",
        versions=versions)


@hookimpl
def llmrt_backend_plan(probe: ProbeResult, model: ModelSizes, num_ctx: int, parallel: int,
                       explicit: bool) -> Placement:
    visible = os.environ.get(ENV_VISIBLE)
    environment: dict[str, str] = {}
    if visible is not None:
        wanted = {int(i) for i in visible.replace(",", " ").split() if i.isdigit()}
        targets = [d for d in probe.devices if d.index in wanted]
    else:
        discrete = [d for d in probe.devices if d.properties.get("type") == "discrete"]
        others = [d for d in probe.devices if d.kind is not DeviceKind.CPU]
        targets = discrete or others[:1]
        if not targets and explicit:  # asked for by name: a software device (lavapipe) will do
            targets = [d for d in probe.devices if d.kind is DeviceKind.CPU][:1]
            environment = {ENV_VISIBLE: ",".join(str(d.index) for d in targets)}
    if not targets:
        skipped = ", ".join(d.name for d in probe.devices)
        return placement.host(NAME, model.n_layer, num_ctx=num_ctx, parallel=parallel,
                              reason=f"no offload target: ggml's Vulkan backend skips CPU-type "
                                     f"devices ({skipped}) unless {ENV_VISIBLE} names them or "
                                     "vulkan is asked for by name")
    planned = placement.plan(NAME, targets, model, num_ctx=num_ctx, parallel=parallel,
                             include_cpu=True)
    positions = tuple(probe.devices.index(targets[i]) for i in planned.devices)
    return dataclasses.replace(planned, devices=positions, environment=environment)


def _record(d: dict[str, Any]) -> DeviceRecord:
    heaps = d["heaps"]
    local = [h for h in heaps if h["device_local"]] or heaps
    total = sum(h["size"] for h in local)
    if all("budget" in h for h in local):
        free = sum(max(0, h["budget"] - h["usage"]) for h in local)
        free_source = "VK_EXT_memory_budget"
    else:
        free, free_source = total, "heap size (no VK_EXT_memory_budget)"
    props: dict[str, str | int] = {
        "type": d["type"], "api_version": d["api_version"], "driver_version": d["driver_version"],
        "vendor_id": d["vendor_id"], "device_id": d["device_id"], "heaps": len(heaps),
        "memory_free_source": free_source,
    }
    for key in ("driver_name", "driver_info"):
        if d.get(key):
            props[key] = d[key]
    return DeviceRecord(name=d["name"], kind=KINDS.get(d["type"], DeviceKind.ACCEL),
                        memory_total=total, memory_free=free, index=d["index"],
                        description=f"Vulkan{d['index']}", features=tuple(d["extensions"]),
                        properties=props)
