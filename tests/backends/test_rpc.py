"""The rpc probe: unconfigured by default; against a real ggml-rpc-server on loopback."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from llmrt.backends import BackendManager, DeviceKind, Status
from llmrt.runtime import native

from ..conftest import free_port
from .plugins_inline import ep


def rpc_manager() -> BackendManager:
    return BackendManager(native.native_dir(), env={}, eps=[ep("cpu"), ep("rpc")])


@pytest.fixture()
def rpc_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([str(native.tool("ggml-rpc-server")), "-H", "127.0.0.1", "-p",
                             str(port), "-t", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "ggml-rpc-server exited"
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "ggml-rpc-server did not listen in 60 s"
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_unconfigured_without_servers(monkeypatch):
    monkeypatch.delenv("LLMRT_RPC_SERVERS", raising=False)
    probe = rpc_manager().probe("rpc")
    assert probe.status is Status.UNCONFIGURED
    assert "LLMRT_RPC_SERVERS=host:port" in probe.reason


def test_real_server_reports_its_device_and_memory(rpc_server: str, monkeypatch):
    dead = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("LLMRT_RPC_SERVERS", f"{rpc_server},{dead}")
    m = rpc_manager()
    probe = m.probe("rpc")
    assert probe.status is Status.AVAILABLE, probe.reason
    [d] = probe.devices
    assert d.kind is DeviceKind.REMOTE and d.description == rpc_server
    assert d.properties["endpoint"] == rpc_server
    # the server shares the CPU device of this very machine, so it reports this machine's RAM
    cpu = m.probe("cpu").devices[0]
    assert d.memory_total == cpu.memory_total
    assert f"unreachable: cannot connect to {dead}" in probe.reason
    assert "ggml_backend_rpc_add_server" in m.report("rpc").why_not


def test_unreachable_servers_are_unavailable(monkeypatch):
    dead = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("LLMRT_RPC_SERVERS", f"{dead}, not-an-endpoint")
    probe = rpc_manager().probe("rpc")
    assert probe.status is Status.UNAVAILABLE
    assert f"cannot connect to {dead}" in probe.reason
    assert "'not-an-endpoint' is not host:port" in probe.reason
