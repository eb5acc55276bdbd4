"""RPC server probe, run as a child process: ``python _rpc_child.py NATIVE_DIR HOST:PORT``.

Uses ggml's own RPC client: opens llmrt's ``libggml-base.so`` and ``libggml-rpc.so`` with cffi in
ABI mode, registers the server with ``ggml_backend_rpc_add_server`` (which asks it how many
devices it has) and reads each device's name, description, type and memory through the backend
device API. A plain TCP connect first turns a dead endpoint into a clear reason instead of
ggml's abort. Prints one JSON line.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

from cffi import FFI

BASE_CDEF = """
typedef struct ggml_backend_reg *ggml_backend_reg_t;
typedef struct ggml_backend_device *ggml_backend_dev_t;
size_t ggml_backend_reg_dev_count(ggml_backend_reg_t reg);
ggml_backend_dev_t ggml_backend_reg_dev_get(ggml_backend_reg_t reg, size_t index);
const char *ggml_backend_dev_name(ggml_backend_dev_t device);
const char *ggml_backend_dev_description(ggml_backend_dev_t device);
void ggml_backend_dev_memory(ggml_backend_dev_t device, size_t *free, size_t *total);
int ggml_backend_dev_type(ggml_backend_dev_t device);
"""
RPC_CDEF = "ggml_backend_reg_t ggml_backend_rpc_add_server(const char *endpoint);"
DEVICE_TYPES = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel"}
CONNECT_TIMEOUT_S = 5.0


def probe(native_dir: Path, endpoint: str) -> dict[str, Any]:
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        return {"ok": False, "reason": f"{endpoint!r} is not host:port"}
    try:
        with socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        return {"ok": False, "reason": f"cannot connect to {endpoint}: {exc.strerror or exc}"}
    ffi = FFI()
    ffi.cdef(BASE_CDEF)
    ffi.cdef(RPC_CDEF)
    base: Any = ffi.dlopen(str(native_dir / "libggml-base.so"))
    rpc: Any = ffi.dlopen(str(native_dir / "libggml-rpc.so"))
    reg = rpc.ggml_backend_rpc_add_server(endpoint.encode())
    if reg == ffi.NULL:
        return {"ok": False, "reason": f"{endpoint} reports no devices"}
    devices = []
    for i in range(base.ggml_backend_reg_dev_count(reg)):
        dev = base.ggml_backend_reg_dev_get(reg, i)
        free, total = ffi.new("size_t *"), ffi.new("size_t *")
        base.ggml_backend_dev_memory(dev, free, total)
        devices.append({
            "index": i, "name": ffi.string(base.ggml_backend_dev_name(dev)).decode(),
            "description": ffi.string(base.ggml_backend_dev_description(dev)).decode(),
            "type": DEVICE_TYPES.get(base.ggml_backend_dev_type(dev), "gpu"),
            "memory_free": int(free[0]), "memory_total": int(total[0]),
        })
    return {"ok": True, "endpoint": endpoint, "devices": devices}


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]), sys.argv[2])))
