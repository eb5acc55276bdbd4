"""The metal backend: Apple silicon GPUs through ggml's Metal backend (``libggml-metal.so``).

Available only on macOS on arm64. Apple GPUs share the machine's unified memory; what Metal lets
one process keep resident is the device's ``recommendedMaxWorkingSetSize``, which is what ggml
reports as the device's memory. It is read through PyObjC's Metal bindings when installed;
otherwise it is estimated the way macOS sizes it (about 2/3 of RAM up to 36 GiB, 3/4 above).
Everywhere else the probe is unavailable with the reason.
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

from ..hookspecs import hookimpl
from ..types import BackendInfo, DeviceKind, DeviceRecord, ProbeResult

NAME = "metal"
LIBRARY = "libggml-metal.so"
GiB = 1 << 30


@hookimpl
def llmrt_backend_info() -> BackendInfo:
    return BackendInfo(name=NAME, priority=90, libraries=(LIBRARY,),
                       description="Apple silicon GPUs through ggml's Metal backend")


@hookimpl
def llmrt_backend_probe(native_dir: Path) -> ProbeResult:
    system, machine = platform.system(), platform.machine()
    if system != "Darwin":
        return ProbeResult.unavailable(f"Metal needs macOS on Apple silicon; this is {system} "
                                       f"on {machine}")
    if machine != "arm64":
        return ProbeResult.unavailable("Metal offload needs Apple silicon; this Mac is "
                                       f"{machine}")
    memsize = _sysctl_int("hw.memsize")
    working_set, source = _recommended_working_set(memsize)
    device = DeviceRecord(name="Metal", kind=DeviceKind.IGPU, memory_total=working_set,
                          memory_free=working_set, description=_sysctl("machdep.cpu.brand_string"),
                          properties={"unified_memory": memsize,
                                      "recommended_working_set": working_set,
                                      "working_set_source": source})
    library = native_dir / LIBRARY
    return ProbeResult.available(
        [device], reason=f"unified memory {memsize / GiB:.1f} GiB",
        libraries=[str(library)] if library.exists() else [],
        load_blocker="" if library.exists() else f"{LIBRARY} was not built (GGML_METAL=ON)",
        versions={"macos": platform.mac_ver()[0]})


def _recommended_working_set(memsize: int) -> tuple[int, str]:
    try:
        import Metal  # type: ignore[import-not-found]  # PyObjC, optional

        return int(Metal.MTLCreateSystemDefaultDevice().recommendedMaxWorkingSetSize()), "Metal"
    except Exception:
        fraction = 2 / 3 if memsize <= 36 * GiB else 3 / 4
        return int(memsize * fraction), "estimate"


def _sysctl(key: str) -> str:
    try:
        return subprocess.run(["sysctl", "-n", key], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _sysctl_int(key: str) -> int:
    value = _sysctl(key)
    return int(value) if value.isdigit() else 0
