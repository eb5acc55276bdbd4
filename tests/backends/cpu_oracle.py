"""An oracle for "the best CPU variant that runs", true on any x86 machine.

Each variant's instruction sets come from llama.cpp's own build file (the
``ggml_add_cpu_backend_variant`` lines); this machine's from /proc/cpuinfo. A variant ranked above
the chosen one must have been rejected for a reason that fits: it needs sets this CPU lacks, or,
having them all, it failed when run (the Xeon whose AMX faults). No CPU model is assumed.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CMAKE = ROOT / "vendor" / "llama.cpp" / "ggml" / "src" / "CMakeLists.txt"

#: ggml's feature names -> the /proc/cpuinfo flags its CPUID check needs for them
FLAGS = {
    "SSE42": {"sse4_2"}, "AVX": {"avx"}, "F16C": {"f16c"}, "FMA": {"fma"}, "AVX2": {"avx2"},
    "BMI2": {"bmi2"}, "AVX512": {"avx512f"}, "AVX512_VBMI": {"avx512vbmi"},
    "AVX512_VNNI": {"avx512_vnni"}, "AVX512_BF16": {"avx512_bf16"}, "AVX_VNNI": {"avx_vnni"},
    "AMX_TILE": {"amx_tile"}, "AMX_INT8": {"amx_int8"},
}


def variant_flags() -> dict[str, set[str]]:
    text = CMAKE.read_text()
    out: dict[str, set[str]] = {}
    for name, feats in re.findall(r"ggml_add_cpu_backend_variant\(\s*([\w.]+)([^)]*)\)", text):
        out[name] = set().union(*(FLAGS.get(f, {f.lower()}) for f in feats.split()))
    return out


def cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def check_best_that_runs(candidates: list[tuple[str, str, str]]) -> str:
    """``candidates``: (name, verdict, reason), best first, as doctor reports them. Asserts that
    the chosen one is the best that runs here; returns its name."""
    need, have = variant_flags(), cpu_flags()
    names = [c[0] for c in candidates]
    chosen = [c for c in candidates if c[1] == "chosen"]
    assert len(chosen) == 1, candidates
    name = chosen[0][0]
    assert need[name] <= have, f"{name} needs {need[name] - have}, which this CPU lacks"
    for other, verdict, reason in candidates[:names.index(name)]:
        assert verdict == "rejected", (other, verdict)
        if need[other] <= have:  # it could have run: it must have failed when it was run
            assert re.search(r"crashed|wrong|timed out|exited", reason), (other, reason)
        else:
            assert "lacks the variant's instruction sets" in reason, (other, reason)
    assert all(v == "not tried" for _, v, _ in candidates[names.index(name) + 1:])
    return name
