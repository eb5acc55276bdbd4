"""The cpu backend: the host. Always loaded, the fallback, never an offload target.

The probe reads the CPU's feature flags and core counts (``/proc/cpuinfo``) and its memory
(``/proc/meminfo``), then chooses among the built ``libggml-cpu-<variant>.so`` libraries by
running them (``llmrt.backends.cpu_variants``: a child process loads each candidate, best first,
and runs a small matmul; a crash rejects it; verdicts are cached per machine and build). Every
candidate is reported: the chosen one, each rejected one with its reason, and the ones not tried
because a better one runs. ``LLMRT_CPU_VARIANT`` forces a variant, unprobed.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from .. import cpu_variants, host
from ..hookspecs import hookimpl
from ..types import BackendInfo, Candidate, DeviceKind, DeviceRecord, ProbeResult

NAME = "cpu"
ENV_VARIANT = "LLMRT_CPU_VARIANT"
#: CPU flags worth showing: the instruction sets the ggml variants are built for.
INTERESTING_FLAGS = (
    "sse4_2", "avx", "avx2", "f16c", "fma", "bmi2", "avx_vnni", "avx512f", "avx512bw",
    "avx512vl", "avx512_vnni", "avx512_bf16", "avx512vbmi", "amx_tile", "amx_int8", "amx_bf16",
    "asimd", "asimddp", "fphp", "i8mm", "sve", "sve2", "sme",
)


@hookimpl
def llmrt_backend_info() -> BackendInfo:
    return BackendInfo(name=NAME, priority=0, libraries=("libggml-cpu-*.so",),
                       description="ggml's CPU backend; the variant is chosen by running it",
                       host=True)


@hookimpl
def llmrt_backend_probe(native_dir: Path) -> ProbeResult:
    chosen, verdicts = cpu_variants.choose(native_dir, forced=os.environ.get(ENV_VARIANT))
    candidates = _candidates(native_dir, chosen, verdicts)
    if chosen is None:
        return ProbeResult.unavailable(
            "no CPU backend variant runs on this machine: "
            + "; ".join(f"{v.variant}: {v.reason}" for v in verdicts), candidates=candidates)
    cpuinfo = _read("/proc/cpuinfo")
    logical = os.cpu_count() or 1
    physical = host.physical_cores()
    total, free = _memory()
    model = _field(cpuinfo, "model name") or platform.processor() or platform.machine()
    features = _flags(cpuinfo)
    device = DeviceRecord(name="CPU", kind=DeviceKind.CPU, memory_total=total, memory_free=free,
                          description=model, features=features,
                          properties={"logical_cores": logical, "physical_cores": physical})
    return ProbeResult.available(
        [device], reason=f"variant {chosen.variant}: {chosen.reason}", libraries=[chosen.path],
        features=features, candidates=candidates,
        properties={"variant": chosen.variant, "default_threads": physical})


def _candidates(native_dir: Path, chosen: cpu_variants.Verdict | None,
                verdicts: list[cpu_variants.Verdict]) -> list[Candidate]:
    seen = {v.variant: v for v in verdicts}
    out = []
    for v in verdicts:
        if chosen is not None and v.variant == chosen.variant:
            out.append(Candidate(v.variant, v.path, "chosen", v.reason))
        else:
            out.append(Candidate(v.variant, v.path, "rejected", v.reason))
    for p in cpu_variants.candidates(native_dir):
        name = cpu_variants.variant_name(p)
        if name not in seen:
            why = (f"{chosen.variant} ranks higher and runs" if chosen is not None
                   else "not reached")
            out.append(Candidate(name, str(p), "not tried", why))
    return out


def _memory() -> tuple[int, int]:
    info: dict[str, int] = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            info[key] = int(parts[0]) * 1024
    if "MemTotal" in info:
        return info["MemTotal"], info.get("MemAvailable", info.get("MemFree", 0))
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0, 0
    return total, total


def _flags(cpuinfo: str) -> tuple[str, ...]:
    have = set((_field(cpuinfo, "flags") or _field(cpuinfo, "Features") or "").split())
    return tuple(f for f in INTERESTING_FLAGS if f in have)


def _field(text: str, key: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(key):
            return line.partition(":")[2].strip()
    return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
