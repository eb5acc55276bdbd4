"""Choose the ggml CPU variant by running it.

llama.cpp is built with every x86 CPU variant (``libggml-cpu-<name>.so``). CPUID is not trusted:
these machines advertise AMX, yet AMX instructions fault, so ggml's own pick (sapphirerapids)
dies on its first matmul. Each candidate, best first, is loaded in a child process that runs a
small quantized matmul through every buffer type the variant offers (the repacked AMX/AVX layouts
llama.cpp uses for weights); the first that exits cleanly with the right result wins. A crash
(SIGILL/SIGSEGV), a wrong result or a timeout rejects it. Verdicts are cached per machine and build.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from . import _child
from .host import cache_dir

#: Best first. Unknown variant names sort after these.
PREFERENCE = ["sapphirerapids", "zen4", "cooperlake", "icelake", "cascadelake", "cannonlake",
              "skylakex", "alderlake", "haswell", "piledriver", "ivybridge", "sandybridge",
              "sse42", "x64"]
PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Verdict:
    variant: str
    path: str
    ok: bool
    reason: str


def variant_name(path: Path) -> str:
    return path.name.removeprefix("libggml-cpu-").removesuffix(".so")


def candidates(native_dir: Path) -> list[Path]:
    found = sorted(native_dir.glob("libggml-cpu-*.so"))
    rank = {name: i for i, name in enumerate(PREFERENCE)}
    return sorted(found, key=lambda p: (rank.get(variant_name(p), len(rank)), p.name))


def run_probe(path: Path, timeout: float = PROBE_TIMEOUT_S) -> Verdict:
    """Load ``path`` in a child process and run the probe matmul there."""
    name = variant_name(path)
    env = {**os.environ, "GGML_BACKEND_DIR": "/nonexistent"}
    try:
        result = _child.run("llmrt.backends._cpu_probe_child", str(path), timeout=timeout,
                            env=env)
    except _child.ChildFailed as exc:
        if exc.signal:
            return Verdict(name, str(path), False,
                           f"crashed with {exc.signal} while running a matmul")
        return Verdict(name, str(path), False, str(exc).removeprefix("the "))
    if result.get("ok"):
        return Verdict(name, str(path), True, "ran a matmul on " +
                       ", ".join(result["buffer_types"]))
    reason = result.get("reason", "probe failed")
    if "not supported on this system" in reason:
        reason = "this CPU lacks the variant's instruction sets (ggml's score is 0)"
    return Verdict(name, str(path), False, reason)


def _machine_key(paths: list[Path]) -> str:
    h = hashlib.sha256()
    try:
        seen = set()
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            field = line.split(":")[0].strip()
            if field in ("model name", "flags") and field not in seen:
                seen.add(field)
                h.update(line.encode())
    except OSError:
        pass
    for p in paths:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:24]


def _cache_file() -> Path:
    return cache_dir() / "cpu-variants.json"


def choose(native_dir: Path, *, forced: str | None = None) -> tuple[Verdict | None, list[Verdict]]:
    """Return (chosen, all verdicts considered). ``forced`` names a variant to use unprobed."""
    paths = candidates(native_dir)
    if forced:
        for p in paths:
            if variant_name(p) == forced:
                v = Verdict(forced, str(p), True, "forced by LLMRT_CPU_VARIANT")
                return v, [v]
        return None, [Verdict(forced, "", False, "no such CPU variant was built")]
    cache = _cache_file()
    key = _machine_key(paths)
    try:
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            # verdicts belong to the machine and build, not to one checkout: point the paths
            # at this native directory (a second checkout must not load the first one's copy)
            cached = [Verdict(**{**v, "path": str(native_dir / Path(v["path"]).name)})
                      if v.get("path") else Verdict(**v) for v in stored["verdicts"]]
            hit = next((v for v in cached if v.ok), None)
            if hit is not None:
                return hit, cached
    except (OSError, ValueError, TypeError, KeyError):
        pass
    verdicts: list[Verdict] = []
    chosen = None
    for p in paths:
        v = run_probe(p)
        verdicts.append(v)
        if v.ok:
            chosen = v
            break
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "verdicts": [asdict(v) for v in verdicts]}))
        os.replace(tmp, cache)
    except OSError:
        pass
    return chosen, verdicts
