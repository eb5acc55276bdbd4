"""An llmrt backend plugin for an accelerator that exists only in llmrt's tests."""

from __future__ import annotations

from pathlib import Path

from llmrt.backends import BackendInfo, DeviceKind, DeviceRecord, ProbeResult, hookimpl

LIBRARY = "libggml-example.so"


@hookimpl
def llmrt_backend_info() -> BackendInfo:
    return BackendInfo(name="example", priority=30, libraries=(LIBRARY,),
                       description="an accelerator that exists only in llmrt's tests")


@hookimpl
def llmrt_backend_probe(native_dir: Path) -> ProbeResult:
    device = DeviceRecord(name="Example0", kind=DeviceKind.ACCEL, memory_total=8 << 30,
                          memory_free=7 << 30, features=("fp16", "int8"))
    return ProbeResult.available([device], reason="one example accelerator",
                                 load_blocker=f"{LIBRARY} is not real",
                                 versions={"driver": "0.3.1"})
