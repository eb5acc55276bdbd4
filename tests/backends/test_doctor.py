"""`llmrt doctor` on this machine, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from llmrt.runtime import native

from tests.conftest import LAVAPIPE, require_system

from .cpu_oracle import check_best_that_runs

VULKAN_BUILT = (native.native_dir() / "libggml-vulkan.so").exists()


#: why placement passes over vulkan here: lavapipe is CPU-type, or the library is missing
VULKAN_WHY_NOT = ("not vulkan: no offload target: ggml's Vulkan backend skips CPU-type devices "
                  "(llvmpipe" if VULKAN_BUILT else "not vulkan: libggml-vulkan.so was not built")


def doctor(*args: str, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llmrt", "doctor", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})}, cwd=cwd)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["name"]: b for b in report["backends"]}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMRT_")}
    out = subprocess.run([sys.executable, "-m", "llmrt", "doctor", "--json"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def test_cpu_variant_chosen_by_execution(report: dict[str, Any]):
    cpu = by_name(report)["cpu"]
    assert cpu["status"] == "available" and cpu["selectable"] and cpu["host"]
    name = check_best_that_runs([(c["name"], c["verdict"], c["reason"])
                                 for c in cpu["candidates"]])
    assert name == cpu["properties"]["variant"]
    [chosen] = [c for c in cpu["candidates"] if c["verdict"] == "chosen"]
    assert cpu["libraries"] == [chosen["path"]]


def test_gpus_absent_with_reasons(report: dict[str, Any]):
    backends = by_name(report)
    if backends["cuda"]["status"] == "available":
        pytest.skip("this machine has a CUDA driver")
    assert backends["cuda"]["status"] == "unavailable"
    assert backends["cuda"]["reason"].startswith("no CUDA driver library found")
    assert backends["metal"]["status"] == "unavailable"
    assert "Metal needs macOS on Apple silicon" in backends["metal"]["reason"]


def test_lavapipe_and_rpc(report: dict[str, Any]):
    require_system(LAVAPIPE, "no Vulkan driver (Mesa's lavapipe)",
                   "libvulkan1 mesa-vulkan-drivers")
    backends = by_name(report)
    vulkan = backends["vulkan"]
    assert vulkan["status"] == "available" and vulkan["selectable"] == VULKAN_BUILT
    assert any(d["kind"] == "cpu" and d["name"].startswith("llvmpipe")
               for d in vulkan["devices"])
    assert backends["rpc"]["status"] == "unconfigured"
    assert [b["name"] for b in report["backends"]] == ["cuda", "metal", "vulkan", "rpc", "cpu"]
    assert report["failed_plugins"] == [] and report["disabled_plugins"] == []


def test_table_for_people(report: dict[str, Any]):
    out = doctor()
    assert out.returncode == 0, out.stderr
    text = out.stdout
    variant = by_name(report)["cpu"]["properties"]["variant"]
    for expected in ("cuda (100)", "metal (90)", "vulkan (50)", "rpc (20)", "cpu (0)",
                     "unavailable", "unconfigured", variant, "chosen"):
        assert expected in text, expected
    if LAVAPIPE:
        assert "llvmpipe" in text


def test_placement_for_a_model():
    out = doctor("--json", "--model", "smollm2:135m", "--num-ctx", "2048")
    assert out.returncode == 0, out.stderr
    placement = json.loads(out.stdout)["placement"]
    assert placement["backend"] == "cpu"
    assert placement["plan"]["n_gpu_layers"] == 0 and placement["plan"]["num_ctx"] == 2048
    assert VULKAN_WHY_NOT in placement["explain"]
