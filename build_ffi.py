"""Build llmrt's native parts: pinned llama.cpp via CMake, then the cffi API-mode extension.

Nothing else lives here. setup.py names ``build_ffi.py:ffibuilder`` in ``cffi_modules``, so
``pip install -e .`` runs this file; running it directly builds in place::

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

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
CDEF_DIR = ROOT / "runtime" / "cdef"
NATIVE_DIR = ROOT / "runtime" / "_native"
# Order matters: common types first.
CDEF_FILES = ["common.h", "log.h", "backend.h", "model.h", "context.h", "batch.h",
              "sampler.h", "vocab.h", "quantize.h"]

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


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    print("build_ffi:", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def apply_patches(src: Path) -> str:
    """Apply vendor/patches/*.patch to the build source (idempotent); return their hash."""
    h = hashlib.sha256()
    for patch in sorted(PATCH_DIR.glob("*.patch")):
        h.update(patch.read_bytes())
        applied = subprocess.run(["patch", "-p1", "-R", "--dry-run", "-s", "-f", "-i",
                                  str(patch)], cwd=src, capture_output=True).returncode == 0
        if not applied:
            _run(["patch", "-p1", "--forward", "-s", "-i", str(patch)], cwd=src)
    return h.hexdigest()


def _cmake(fetcher, flags: list[str], targets: list[str], salt: str = "") -> Path:
    """Configure (once) and build ``targets`` in the build directory keyed by source+flags."""
    pin = fetcher.read_pin()
    src = fetcher.build_source()
    build = fetcher.cache_dir() / "build" / build_key(pin["sha256"] + salt, flags)
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    if not (build / "CMakeCache.txt").exists():
        _run(["cmake", "-S", str(src), "-B", str(build), *generator, *flags])
    jobs = os.environ.get("LLMRT_BUILD_JOBS") or str(os.cpu_count() or 2)
    _run(["cmake", "--build", str(build), "-j", jobs, "--target", *targets])
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
    pin = fetcher.read_pin()
    bin_dir = cmake_build(fetcher)
    install_native(bin_dir)
    if vulkan_wanted():
        install_native(vulkan_build(fetcher), only=["libggml-vulkan.so"])
    src = fetcher.build_source()

    ffibuilder = FFI()
    ffibuilder.cdef("\n".join((CDEF_DIR / name).read_text() for name in CDEF_FILES))
    ffibuilder.set_source(
        "llmrt.runtime._llama",
        f"""
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
""",
        include_dirs=[str(src / "include"), str(src / "ggml" / "include")],
        library_dirs=[str(NATIVE_DIR)],
        libraries=["llama", "ggml", "ggml-base"],
        extra_link_args=["-Wl,-rpath,$ORIGIN/_native"],
    )
    return ffibuilder


ffibuilder = make_ffibuilder()

if __name__ == "__main__":
    out = Path(ffibuilder.compile(tmpdir=str(ROOT / "build" / "cffi"), verbose=True))
    shutil.copy2(out, ROOT / "runtime" / out.name)
