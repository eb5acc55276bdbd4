"""The cuda backend: NVIDIA GPUs through ggml's CUDA backend (``libggml-cuda.so``).

The probe asks the CUDA driver (libcuda, cffi ABI mode, in a child process with a timeout) for
its version and each device's name, compute capability, multiprocessors and total/free memory;
NVML (optional) adds the driver's version string. ``LLMRT_CUDA_LIBRARY`` names the libcuda to
probe instead of the usual places. ``CUDA_VISIBLE_DEVICES`` is honoured, as ggml honours it.
Selectable only when ``libggml-cuda.so`` was built.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from .. import _child
from ..hookspecs import hookimpl
from ..types import BackendInfo, DeviceKind, DeviceRecord, ProbeResult

NAME = "cuda"
LIBRARY = "libggml-cuda.so"
ENV_LIBRARY = "LLMRT_CUDA_LIBRARY"
ENV_NVML = "LLMRT_NVML_LIBRARY"
CHILD = Path(__file__).with_name("_cuda_child.py")
TIMEOUT_S = 30.0


@hookimpl
def llmrt_backend_info() -> BackendInfo:
    return BackendInfo(name=NAME, priority=100, libraries=(LIBRARY,),
                       description="NVIDIA GPUs through ggml's CUDA backend")


@hookimpl
def llmrt_backend_probe(native_dir: Path) -> ProbeResult:
    forced = os.environ.get(ENV_LIBRARY)
    if forced:
        libraries, nvml = [forced], [os.environ.get(ENV_NVML, "")]
    elif platform.system() == "Linux":
        libraries = ["libcuda.so.1", "libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                     "/usr/lib64/nvidia/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"]
        nvml = [os.environ.get(ENV_NVML, "libnvidia-ml.so.1")]
    elif platform.system() == "Windows":
        libraries, nvml = ["nvcuda.dll"], [os.environ.get(ENV_NVML, "nvml.dll")]
    else:
        return ProbeResult.unavailable(f"CUDA is not supported on {platform.system()}")
    try:
        found = _child.run(CHILD, *libraries, "--nvml", *[n for n in nvml if n],
                           timeout=TIMEOUT_S)
    except _child.ChildFailed as exc:
        return ProbeResult.unavailable(f"CUDA driver probe failed: {exc}")
    versions = {k: str(found[k]) for k in ("driver_api", "driver") if found.get(k)}
    if not found.get("ok"):
        return ProbeResult.unavailable(str(found.get("reason", "CUDA driver probe failed")),
                                       versions=versions)
    versions["library"] = str(found["library"])
    devices = [
        DeviceRecord(name=d["name"], kind=DeviceKind.GPU, memory_total=d["memory_total"],
                     memory_free=d["memory_free"], index=d["index"],
                     description=f"CUDA{d['index']}",
                     compute_capability=d["compute_capability"],
                     properties={"multiprocessors": d["multiprocessors"]})
        for d in found["devices"]
    ]
    if not devices:
        return ProbeResult.unavailable("the CUDA driver reports no devices", versions=versions)
    library = native_dir / LIBRARY
    return ProbeResult.available(
        devices, reason=f"{len(devices)} device(s), CUDA driver API {versions['driver_api']}",
        libraries=[str(library)] if library.exists() else [],
        load_blocker="" if library.exists() else f"{LIBRARY} was not built (GGML_CUDA=ON)",
        versions=versions)
