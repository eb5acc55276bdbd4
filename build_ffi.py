"""Build llmrt's native parts: pinned llama.cpp via CMake, then the cffi API-mode extension.

Nothing else lives here. setup.py names ``build_ffi.py:make_ffibuilder`` in ``cffi_modules`` (cffi
calls it), so ``pip install -e .`` builds; importing this file builds nothing. Running it directly
builds in place::

    python build_ffi.py

Steps:
1. the pinned source (vendor/llama.cpp.toml) is fetched and verified by vendor/fetch_llama_cpp.py;
2. CMake builds it in ``<cache>/build/<key>``, key = hash(source sha256, CMake flags), so a second
   build of the same pin and flags is a no-op; libraries and tools are copied to runtime/_native/;
3. cffi compiles ``llmrt.runtime._llama`` from the headers in runtime/cdef/, linked against
   runtime/_native/ with an ``$ORIGIN`` rpath (no LD_LIBRARY_PATH needed).

Environment: ``LLMRT_CACHE_DIR`` (default ~/.cache/llmrt), ``LLMRT_BUILD_JOBS`` (default: cores),
``LLMRT_BUILD_VULKAN`` = ``auto`` (default: build ``libggml-vulkan`` when glslc and the Vulkan
headers are installed) | ``on`` | ``off``. The Vulkan backend is a second, separately cached
CMake build of the same source whose only product is that backend module.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
CDEF_DIR = ROOT / "runtime" / "cdef"
NATIVE_DIR = ROOT / "runtime" / "_native"
# Order matters: common types first.
CDEF_FILES = ["common.h", "log.h", "backend.h", "model.h", "context.h", "batch.h",
              "sampler.h", "vocab.h", "quantize.h", "adapter.h"]

# No -march=native anywhere: these machines advertise AMX that faults. Every CPU variant is built
# and the backends' cpu plugin chooses one at run time by executing it.
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DGGML_NATIVE=OFF",
    "-DGGML_BACKEND_DL=ON",
    "-DGGML_CPU_ALL_VARIANTS=ON",
    "-DGGML_RPC=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DCMAKE_BUILD_RPATH_USE_ORIGIN=ON",
]
TOOLS = ["llama-server", "ggml-rpc-server", "llama-bench"]
VULKAN_FLAGS = [*CMAKE_FLAGS, "-DGGML_VULKAN=ON"]
PATCH_DIR = ROOT / "vendor" / "patches"


def _load_fetcher():
    spec = importlib.util.spec_from_file_location("fetch_llama_cpp",
                                                  ROOT / "vendor" / "fetch_llama_cpp.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_key(source_sha256: str, flags: list[str]) -> str:
    return hashlib.sha256((source_sha256 + "\n" + "\n".join(flags)).encode()).hexdigest()[:16]


# Measured: a cold build (main + Vulkan) takes about 28 core-minutes (13 min 32 s on 2 cores).
COLD_BUILD_CORE_MINUTES = 28
_STEP = re.compile(r"^\[\s*(\d+)/(\d+)\]|^\[\s*(\d+)%\]")


class Progress:
    """What a person sees while the native build runs.

    pip captures a build backend's stdout and stderr and shows them only with ``-v`` or after a
    failure, so a plain ``pip install -e .`` would show nothing for many minutes. Stage and
    progress lines therefore go to the controlling terminal (``/dev/tty``) when stderr is not
    one; with no terminal (CI) they go to stderr like everything else, which pip keeps quiet.
    """

    def __init__(self) -> None:
        self._tty = None
        if not sys.stderr.isatty():
            try:
                self._tty = open("/dev/tty", "w")  # noqa: SIM115 - lives as long as the build
            except OSError:
                self._tty = None

    def say(self, msg: str) -> None:
        line = f"llmrt build: {msg}"
        print(line, file=sys.stderr, flush=True)
        if self._tty is not None:
            try:
                self._tty.write(line + "\n")
                self._tty.flush()
            except OSError:
                self._tty = None

    def run(self, cmd: list[str], what: str, cwd: Path | None = None) -> None:
        """Run a build step, its output to stderr (so pip shows it on failure) and, for ninja or
        make, a progress line every 5 % or minute: done/total, elapsed, estimated time left."""
        print("build_ffi:", " ".join(cmd), file=sys.stderr, flush=True)
        start = time.monotonic()
        last_pct, last_t, biggest = -5, start, 0
        tail: collections.deque[str] = collections.deque(maxlen=40)
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
            tail.append(line)
            m = _STEP.match(line)
            if not m:
                continue
            if m[2]:  # ninja; a nested build (ggml-vulkan's shader generator) prints its own
                if int(m[2]) < biggest:  # counts: follow the largest one
                    continue
                biggest = int(m[2])
            pct = int(m[3]) if m[3] else 100 * int(m[1]) // max(1, int(m[2]))
            now = time.monotonic()
            # a line per 5 % (or a minute), none in the first seconds: a no-op build stays quiet
            if now - start >= 5 and (pct >= last_pct + 5 and now - last_t >= 5
                                     or now - last_t >= 60):
                last_pct, last_t = pct, now
                elapsed = now - start
                left = f", about {_mmss(elapsed * (100 - pct) / pct)} left" if pct >= 3 else ""
                steps = f" ({m[1]}/{m[2]} steps)" if m[1] else ""
                self.say(f"{what}: {pct}%{steps}, {_mmss(elapsed)} elapsed{left}")
        if proc.wait() != 0:
            sys.stderr.flush()
            raise subprocess.CalledProcessError(proc.returncode, cmd, "".join(tail))
        self.say(f"{what}: done in {_mmss(time.monotonic() - start)}")


def _mmss(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s"


PROGRESS = Progress()


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    print("build_ffi:", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, cwd=cwd, stdout=sys.stderr, check=True)


def apply_patches(src: Path) -> str:
    """Apply vendor/patches/*.patch to the build source (idempotent); return their hash."""
    h = hashlib.sha256()
    for patch in sorted(PATCH_DIR.glob("*.patch")):
        text = patch.read_bytes()
        h.update(text)
        applied = subprocess.run(["patch", "-p1", "-R", "--dry-run", "-s", "-f", "-i",
                                  str(patch)], cwd=src, capture_output=True).returncode == 0
        if not applied:
            # A freshly extracted source carries the sdist's mtimes; keep them on the patched
            # files too, so re-extracting (CI empties the extract cache) rebuilds nothing: the
            # build directory is keyed by the patches' hash, so content changes never share one.
            files = [src / m.decode() for m in re.findall(rb"^\+\+\+ b/(\S+)", text, re.M)]
            times = {f: f.stat().st_mtime_ns for f in files if f.exists()}
            _run(["patch", "-p1", "--forward", "-s", "-i", str(patch)], cwd=src)
            for f, t in times.items():
                os.utime(f, ns=(t, t))
    return h.hexdigest()


def _cmake(fetcher, flags: list[str], targets: list[str], salt: str = "") -> Path:
    """Configure (once) and build ``targets`` in the build directory keyed by source+flags."""
    pin = fetcher.read_pin()
    src = fetcher.build_source()
    build = fetcher.cache_dir() / "build" / build_key(pin["sha256"] + salt, flags)
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    what = "Vulkan backend" if "-DGGML_VULKAN=ON" in flags else "llama.cpp"
    if not (build / "CMakeCache.txt").exists():
        cores = os.cpu_count() or 2
        PROGRESS.say(f"configuring {what} in {build} (a cold build of llama.cpp and the Vulkan "
                     f"backend takes about {COLD_BUILD_CORE_MINUTES // cores} min on {cores} "
                     "cores; it is cached for later installs)")
        PROGRESS.run(["cmake", "-S", str(src), "-B", str(build), *generator, *flags],
                     f"configure {what}")
    jobs = os.environ.get("LLMRT_BUILD_JOBS") or str(os.cpu_count() or 2)
    PROGRESS.run(["cmake", "--build", str(build), "-j", jobs, "--target", *targets],
                 f"build {what}")
    return build / "bin"


def cmake_build(fetcher) -> Path:
    """Build llama.cpp (cached): every CPU variant, the RPC backend, and the tools later issues
    and bench/ use; return the build's bin directory."""
    fetcher.vendor_source()
    return _cmake(fetcher, CMAKE_FLAGS, ["llama", "ggml", "ggml-rpc", *TOOLS])


def vulkan_wanted() -> bool:
    mode = os.environ.get("LLMRT_BUILD_VULKAN", "auto").lower()
    if mode in ("off", "0", "no"):
        return False
    if mode in ("on", "1", "yes"):
        return True
    return shutil.which("glslc") is not None and Path("/usr/include/vulkan/vulkan.hpp").exists()


def vulkan_build(fetcher) -> Path:
    """The Vulkan backend module alone, from the patched source (a second cached build)."""
    salt = apply_patches(fetcher.build_source())
    return _cmake(fetcher, VULKAN_FLAGS, ["ggml-vulkan"], salt=salt)


def install_native(bin_dir: Path, only: list[str] | None = None) -> None:
    """Copy libraries and tools next to the extension (runtime/_native), replacing old ones."""
    NATIVE_DIR.mkdir(parents=True, exist_ok=True)
    wanted = [p for p in bin_dir.iterdir()
              if (p.name.startswith("lib") and ".so" in p.name) or p.name in TOOLS]
    if only is not None:
        wanted = [p for p in wanted if p.name in only]
    for p in wanted:
        dest = NATIVE_DIR / p.name
        if p.is_symlink():
            if dest.exists() or dest.is_symlink():
                dest.unlink()
            dest.symlink_to(os.readlink(p))
        elif not dest.exists() or dest.stat().st_mtime < p.stat().st_mtime:
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.copy2(p, tmp)
            os.replace(tmp, dest)


def make_ffibuilder() -> FFI:
    fetcher = _load_fetcher()
    fetcher.say = PROGRESS.say
    pin = fetcher.read_pin()
    bin_dir = cmake_build(fetcher)
    install_native(bin_dir)
    if vulkan_wanted():
        install_native(vulkan_build(fetcher), only=["libggml-vulkan.so"])
    src = fetcher.build_source()
    PROGRESS.say("llama.cpp is built; compiling the cffi binding (llmrt.runtime._llama)")

    ffibuilder = FFI()
    ffibuilder.cdef("\n".join((CDEF_DIR / name).read_text() for name in CDEF_FILES))
    ffibuilder.set_source(
        "llmrt.runtime._llama",
        f"""
#include <math.h>
#include <stdatomic.h>
#include "llama.h"
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"

static const char * llmrt_build_commit(void) {{ return "{pin['llama_cpp_commit']}"; }}

/* abort callback polled by ggml between graph nodes: reads a flag Python sets, no GIL needed */
static bool llmrt_abort_if_flag(void * flag) {{
    return atomic_load_explicit((_Atomic int *) flag, memory_order_relaxed) != 0;
}}

/* greedy sampling without building llama.cpp's candidate array: the first maximum, exactly as
   llama_sampler_init_greedy picks it; -1 when there are no logits for output idx */
static int32_t llmrt_argmax_logits(struct llama_context * ctx, int32_t idx, int32_t n_vocab) {{
    const float * logits = llama_get_logits_ith(ctx, idx);
    if (logits == NULL || n_vocab <= 0) return -1;
    int32_t best = 0;
    float best_logit = logits[0];
    for (int32_t i = 1; i < n_vocab; i++) {{
        if (logits[i] > best_logit) {{ best_logit = logits[i]; best = i; }}
    }}
    return best;
}}

/* log-softmax of output idx's logits: the logprob of `token` and the k most likely tokens
   (best first; ties keep the lower id, as a stable sort would). k <= 0 skips the top list.
   Returns 0, or -1 when there are no logits for idx. */
static int32_t llmrt_logprobs(struct llama_context * ctx, int32_t idx, int32_t n_vocab,
                              int32_t token, int32_t k, int32_t * top_ids, float * top_lp,
                              float * token_lp) {{
    const float * l = llama_get_logits_ith(ctx, idx);
    if (l == NULL || n_vocab <= 0) return -1;
    float mx = l[0];
    for (int32_t i = 1; i < n_vocab; i++) if (l[i] > mx) mx = l[i];
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; i++) sum += exp((double) l[i] - mx);
    const double logz = mx + log(sum);
    *token_lp = (token >= 0 && token < n_vocab) ? (float) (l[token] - logz) : 0.0f;
    int32_t n = 0;
    for (int32_t i = 0; i < n_vocab && k > 0; i++) {{
        if (n == k && l[i] <= l[top_ids[n - 1]]) continue;
        int32_t j = n < k ? n++ : k - 1;
        while (j > 0 && l[top_ids[j - 1]] < l[i]) {{ top_ids[j] = top_ids[j - 1]; j--; }}
        top_ids[j] = i;
    }}
    for (int32_t j = 0; j < n; j++) top_lp[j] = (float) (l[top_ids[j]] - logz);
    return n;
}}
""",
        include_dirs=[str(src / "include"), str(src / "ggml" / "include")],
        library_dirs=[str(NATIVE_DIR)],
        libraries=["llama", "ggml", "ggml-base", "m"],
        extra_link_args=["-Wl,-rpath,$ORIGIN/_native"],
    )
    return ffibuilder


if __name__ == "__main__":
    out = Path(make_ffibuilder().compile(tmpdir=str(ROOT / "build" / "cffi"), verbose=True))
    shutil.copy2(out, ROOT / "runtime" / out.name)
