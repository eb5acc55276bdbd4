"""The rpc backend: devices of other machines served by ``ggml-rpc-server``, through ggml's RPC
backend (``libggml-rpc.so``).

``LLMRT_RPC_SERVERS=host:port,...`` lists the servers; without it the backend is unconfigured.
Each server is probed in a child process (with a timeout) by ggml's own RPC client, which
reports the server's devices and their memory. A server that cannot be reached is named in the
reason; the others are still reported.

Not selectable yet: registering a server in the runtime's own process needs the
``ggml_backend_rpc_add_server`` proc address and ``ggml_backend_register`` in the binding
(``runtime/cdef/backend.h``); the distributed issue adds them.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import _child
from ..hookspecs import hookimpl
from ..types import BackendInfo, DeviceKind, DeviceRecord, ProbeResult

NAME = "rpc"
LIBRARY = "libggml-rpc.so"
ENV_SERVERS = "LLMRT_RPC_SERVERS"
CHILD = Path(__file__).with_name("_rpc_child.py")
TIMEOUT_S = 20.0
LOAD_BLOCKER = ("registering RPC servers in-process needs the ggml_backend_rpc_add_server and "
                "ggml_backend_register bindings (runtime/cdef/backend.h)")


@hookimpl
def llmrt_backend_info() -> BackendInfo:
    return BackendInfo(name=NAME, priority=20, libraries=(LIBRARY,),
                       description="devices of other machines running ggml-rpc-server")


@hookimpl
def llmrt_backend_probe(native_dir: Path) -> ProbeResult:
    servers = [s.strip() for s in os.environ.get(ENV_SERVERS, "").split(",") if s.strip()]
    if not servers:
        return ProbeResult.unconfigured(f"set {ENV_SERVERS}=host:port,... to use ggml-rpc-server "
                                        "devices")
    if not (native_dir / LIBRARY).exists():
        return ProbeResult.unavailable(f"{LIBRARY} was not built (GGML_RPC=ON)")
    devices: list[DeviceRecord] = []
    failures: list[str] = []
    for endpoint in servers:
        try:
            found = _child.run(CHILD, str(native_dir), endpoint, timeout=TIMEOUT_S)
        except _child.ChildFailed as exc:
            failures.append(f"{endpoint}: {exc}")
            continue
        if not found.get("ok"):
            failures.append(str(found.get("reason")))
            continue
        for d in found["devices"]:
            devices.append(DeviceRecord(
                name=f"{d['name']}@{endpoint}", kind=DeviceKind.REMOTE,
                memory_total=d["memory_total"], memory_free=d["memory_free"],
                index=len(devices), description=d["description"],
                properties={"endpoint": endpoint, "remote_type": d["type"]}))
    if not devices:
        return ProbeResult.unavailable("no RPC server answered: " + "; ".join(failures))
    reason = f"{len(devices)} device(s) on {len(servers) - len(failures)} server(s)"
    if failures:
        reason += "; unreachable: " + "; ".join(failures)
    return ProbeResult.available(devices, reason=reason, load_blocker=LOAD_BLOCKER,
                                 properties={"servers": ",".join(servers)})
