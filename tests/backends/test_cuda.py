"""The cuda probe against a fake libcuda compiled here, and without any driver."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from llmrt.backends import BackendManager, DeviceKind, Status, model_sizes
from llmrt.runtime import native

from .plugins_inline import ep

FAKE_LIBCUDA = r"""
/* The driver API calls the cuda probe makes, answering for one made-up GPU. */
#include <stdio.h>
#include <stddef.h>
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
static int initialised, current, dummy_ctx;

CUresult cuInit(unsigned int flags) {
#ifdef NO_DEVICE
    return 100; /* CUDA_ERROR_NO_DEVICE */
#endif
    initialised = 1; return 0;
}
CUresult cuGetErrorName(CUresult e, const char **s) {
    *s = e == 100 ? "CUDA_ERROR_NO_DEVICE" : e == 3 ? "CUDA_ERROR_NOT_INITIALIZED" : "OTHER";
    return 0;
}
CUresult cuDriverGetVersion(int *v) { *v = 12040; return 0; }
CUresult cuDeviceGetCount(int *n) { if (!initialised) return 3; *n = 1; return 0; }
CUresult cuDeviceGet(CUdevice *d, int ordinal) { if (ordinal) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
    snprintf(name, len, "llmrt Fake GPU 9000"); return 0;
}
CUresult cuDeviceGetAttribute(int *pi, int attrib, CUdevice d) {
    switch (attrib) {
    case 75: *pi = 8; return 0;    /* compute capability major */
    case 76: *pi = 9; return 0;    /* minor */
    case 16: *pi = 128; return 0;  /* multiprocessors */
    default: return 1;
    }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d) { *bytes = 24ull << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice d) {
    *ctx = (CUcontext)&dummy_ctx; return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { return 0; }
CUresult cuCtxSetCurrent(CUcontext ctx) { current = ctx != NULL; return 0; }
CUresult cuMemGetInfo_v2(size_t *free, size_t *total) {
    if (!current) return 201; /* CUDA_ERROR_INVALID_CONTEXT */
    *free = 20ull << 30; *total = 24ull << 30; return 0;
}
"""


def compile_libcuda(tmp_path: Path, *defines: str) -> Path:
    src = tmp_path / "fake_libcuda.c"
    src.write_text(FAKE_LIBCUDA)
    out = tmp_path / "libcuda.so.1"
    subprocess.run(["cc", "-shared", "-fPIC", *defines, "-o", str(out), str(src)], check=True)
    return out


def cuda_manager() -> BackendManager:
    return BackendManager(native.native_dir(), env={}, eps=[ep("cpu"), ep("cuda")])


def test_fake_driver_reports_exactly_its_device(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LLMRT_CUDA_LIBRARY", str(compile_libcuda(tmp_path)))
    probe = cuda_manager().probe("cuda")
    assert probe.status is Status.AVAILABLE
    assert len(probe.devices) == 1
    d = probe.devices[0]
    assert (d.name, d.kind, d.compute_capability) == ("llmrt Fake GPU 9000", DeviceKind.GPU, "8.9")
    assert (d.memory_total, d.memory_free) == (24 << 30, 20 << 30)
    assert d.properties["multiprocessors"] == 128
    assert probe.versions["driver_api"] == "12.4"
    # no libggml-cuda.so in this build: available, but not selectable
    assert probe.libraries == () and "libggml-cuda.so was not built" in probe.load_blocker


def test_fake_driver_device_gets_a_placement(tmp_path: Path, monkeypatch, smollm2_path: Path):
    monkeypatch.setenv("LLMRT_CUDA_LIBRARY", str(compile_libcuda(tmp_path)))
    m = cuda_manager()
    p = m.plan("cuda", model_sizes.read(smollm2_path), num_ctx=4096)
    assert p.full and p.devices == (0,)
    sel = m.select(model_sizes.read(smollm2_path), num_ctx=4096)
    assert sel.backend == "cpu" and any("cuda: libggml-cuda.so" in s for s in sel.skipped)


def test_driver_without_devices_is_unavailable_with_the_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LLMRT_CUDA_LIBRARY", str(compile_libcuda(tmp_path, "-DNO_DEVICE")))
    probe = cuda_manager().probe("cuda")
    assert probe.status is Status.UNAVAILABLE
    assert probe.reason.endswith("loaded but cuInit failed: CUDA_ERROR_NO_DEVICE (100)")


def test_missing_driver_is_unavailable_with_a_reason(tmp_path: Path, monkeypatch):
    missing = tmp_path / "libcuda.so.1"
    monkeypatch.setenv("LLMRT_CUDA_LIBRARY", str(missing))
    probe = cuda_manager().probe("cuda")
    assert probe.status is Status.UNAVAILABLE and probe.devices == ()
    assert probe.reason.startswith("no CUDA driver library found")
    assert str(missing) in probe.reason


def test_this_machine_has_no_cuda_driver(monkeypatch):
    monkeypatch.delenv("LLMRT_CUDA_LIBRARY", raising=False)
    probe = cuda_manager().probe("cuda")
    if probe.is_available:
        pytest.skip("this machine has a CUDA driver")
    assert probe.reason.startswith("no CUDA driver library found (libcuda.so.1: ")
