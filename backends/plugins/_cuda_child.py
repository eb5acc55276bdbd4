"""CUDA driver probe, run as a child process: ``python _cuda_child.py LIBCUDA... [--nvml LIB...]``.

Opens the first libcuda that loads with cffi in ABI mode and asks the driver API for the driver
version and, per device, its name, compute capability, multiprocessor count, total memory and
free memory (through the device's primary context). NVML, when one of the ``--nvml`` libraries
loads, adds the driver's version string. Prints one JSON line; a broken driver can only kill
this process.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from cffi import FFI

CDEF = """
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
CUresult cuInit(unsigned int flags);
CUresult cuDriverGetVersion(int *version);
CUresult cuDeviceGetCount(int *count);
CUresult cuDeviceGet(CUdevice *device, int ordinal);
CUresult cuDeviceGetName(char *name, int len, CUdevice dev);
CUresult cuDeviceGetAttribute(int *pi, int attrib, CUdevice dev);
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev);
CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev);
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
CUresult cuCtxSetCurrent(CUcontext ctx);
CUresult cuMemGetInfo_v2(size_t *free, size_t *total);
CUresult cuGetErrorName(CUresult error, const char **str);
"""
NVML_CDEF = """
int nvmlInit_v2(void);
int nvmlShutdown(void);
int nvmlSystemGetDriverVersion(char *version, unsigned int length);
"""
ATTR_CC_MAJOR, ATTR_CC_MINOR, ATTR_SM_COUNT = 75, 76, 16


class DriverError(Exception):
    pass


class Driver:
    """libcuda's driver API, each call checked."""

    def __init__(self, path: str) -> None:
        self.ffi = FFI()
        self.ffi.cdef(CDEF)
        self.lib: Any = self.ffi.dlopen(path)
        self.path = path

    def call(self, fn: str, *args: Any) -> None:
        rc = getattr(self.lib, fn)(*args)
        if rc != 0:
            name = self.ffi.new("const char **")
            try:
                known = self.lib.cuGetErrorName(rc, name) == 0
            except AttributeError:
                known = False
            label = self.ffi.string(name[0]).decode() if known else "CUDA error"
            raise DriverError(f"{fn} failed: {label} ({rc})")

    def out(self, ctype: str, fn: str, *args: Any) -> Any:
        """Call ``fn(*args, &value)`` for a single output parameter; return the value."""
        value = self.ffi.new(ctype + " *")
        self.call(fn, value, *args)
        return value[0]

    def device(self, ordinal: int) -> dict[str, Any]:
        dev = self.out("CUdevice", "cuDeviceGet", ordinal)
        name = self.ffi.new("char[256]")
        self.call("cuDeviceGetName", name, 256, dev)
        major = self.out("int", "cuDeviceGetAttribute", ATTR_CC_MAJOR, dev)
        minor = self.out("int", "cuDeviceGetAttribute", ATTR_CC_MINOR, dev)
        sms = self.out("int", "cuDeviceGetAttribute", ATTR_SM_COUNT, dev)
        total = self.out("size_t", "cuDeviceTotalMem_v2", dev)
        ctx = self.out("CUcontext", "cuDevicePrimaryCtxRetain", dev)
        free = self.ffi.new("size_t *")
        try:
            self.call("cuCtxSetCurrent", ctx)
            self.call("cuMemGetInfo_v2", free, self.ffi.new("size_t *"))
        finally:
            self.lib.cuCtxSetCurrent(self.ffi.NULL)
            self.lib.cuDevicePrimaryCtxRelease_v2(dev)
        return {"index": ordinal, "name": self.ffi.string(name).decode("utf-8", "replace"),
                "compute_capability": f"{major}.{minor}", "multiprocessors": sms,
                "memory_total": int(total), "memory_free": int(free[0])}


def probe(libraries: list[str], nvml: list[str]) -> dict[str, Any]:
    driver, errors = None, []
    for candidate in libraries:
        try:
            driver = Driver(candidate)
            break
        except OSError as exc:
            errors.append(_dlopen_error(exc))
    if driver is None:
        return {"ok": False, "reason": not_found("CUDA driver library", libraries, errors)}
    try:
        driver.call("cuInit", 0)
        version = driver.out("int", "cuDriverGetVersion")
        devices = [driver.device(i) for i in range(driver.out("int", "cuDeviceGetCount"))]
    except DriverError as exc:
        return {"ok": False, "library": driver.path, "reason": f"{driver.path} loaded but {exc}"}
    except AttributeError as exc:  # a symbol the library does not export
        return {"ok": False, "library": driver.path,
                "reason": f"{driver.path} is not a CUDA driver: {exc}"}
    return {"ok": True, "library": driver.path, "devices": devices,
            "driver_api": f"{version // 1000}.{version % 1000 // 10}",
            "driver": _nvml_driver_version(nvml)}


def _nvml_driver_version(candidates: list[str]) -> str | None:
    ffi = FFI()
    ffi.cdef(NVML_CDEF)
    for candidate in candidates:
        try:
            nvml: Any = ffi.dlopen(candidate)
        except OSError:
            continue
        try:
            if nvml.nvmlInit_v2() != 0:
                return None
            buf = ffi.new("char[96]")
            ok = nvml.nvmlSystemGetDriverVersion(buf, 96) == 0
            nvml.nvmlShutdown()
            return ffi.string(buf).decode() if ok else None
        except AttributeError:
            return None
    return None


def not_found(what: str, tried: list[str], errors: list[str]) -> str:
    first = f" ({errors[0]})" if errors else ""
    return f"no {what} found{first}; tried {', '.join(tried) or 'nothing'}"


def _dlopen_error(exc: OSError) -> str:
    """cffi's message without its "cannot load library 'x': " prefix and ctypes hint."""
    text = str(exc).split("  Additionally")[0].rstrip(". ")
    return text.split("': ", 1)[1] if text.startswith("cannot load library") else text


if __name__ == "__main__":
    args = sys.argv[1:]
    cut = args.index("--nvml") if "--nvml" in args else len(args)
    print(json.dumps(probe(args[:cut], args[cut + 1:])))
