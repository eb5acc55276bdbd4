"""The vulkan backend on Mesa's lavapipe (installed by .ci/run): a real CPU-type Vulkan device,
reported as available, never chosen automatically, and usable when asked for by name. Models
running on it, through the server too: test_vulkan_run.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llmrt.backends import BackendManager, DeviceKind, Status, model_sizes
from llmrt.runtime import native

from tests.conftest import LAVAPIPE, require_system

from .plugins_inline import ep

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="lavapipe is installed on Linux")
VULKAN_BUILT = (native.native_dir() / "libggml-vulkan.so").exists()


@pytest.fixture()
def lavapipe() -> None:
    require_system(LAVAPIPE, "no Vulkan driver (Mesa's lavapipe)",
                   "libvulkan1 mesa-vulkan-drivers")
    if os.environ.get("CI"):  # CI installs the headers and glslc, so the build must have it
        assert VULKAN_BUILT, "libggml-vulkan.so was not built although CI installs its headers"


def vulkan_manager() -> BackendManager:
    return BackendManager(native.native_dir(), env={}, eps=[ep("cpu"), ep("vulkan")])


@pytest.mark.usefixtures("lavapipe")
def test_lavapipe_is_an_available_cpu_type_device():
    probe = vulkan_manager().probe("vulkan")
    assert probe.status is Status.AVAILABLE, probe.reason
    lavapipe = [d for d in probe.devices if d.properties.get("driver_name") == "llvmpipe"]
    assert len(lavapipe) == 1, probe.devices
    d = lavapipe[0]
    assert d.kind is DeviceKind.CPU and d.properties["type"] == "cpu"
    assert d.name.startswith("llvmpipe") and d.memory_total > 0
    assert d.properties["api_version"].startswith("1.")
    assert "Mesa" in str(d.properties["driver_info"])
    assert probe.versions["instance"].startswith("1.")


@pytest.mark.usefixtures("lavapipe")
def test_selectable_exactly_when_its_ggml_library_was_built():
    report = vulkan_manager().report("vulkan")
    assert report.selectable == VULKAN_BUILT
    if not VULKAN_BUILT:
        assert report.why_not == "libggml-vulkan.so was not built (GGML_VULKAN=ON)"


@pytest.mark.usefixtures("lavapipe")
def test_a_cpu_type_vulkan_device_is_never_chosen_automatically(smollm2_path: Path,
                                                                 monkeypatch):
    monkeypatch.delenv("GGML_VK_VISIBLE_DEVICES", raising=False)
    sizes = model_sizes.read(smollm2_path)
    m = vulkan_manager()
    plan = m.plan("vulkan", sizes, num_ctx=4096)
    assert plan.n_gpu_layers == 0 and not plan.environment
    assert "ggml's Vulkan backend skips CPU-type devices (llvmpipe" in plan.reason
    assert m.select(sizes, num_ctx=4096).backend == "cpu"
    assert "its only devices are CPU-type (llvmpipe" in m.report("vulkan").auto_why_not
    # naming lavapipe for ggml makes it a target, yet the automatic choice still passes it over
    monkeypatch.setenv("GGML_VK_VISIBLE_DEVICES", "0")
    assert m.plan("vulkan", sizes, num_ctx=4096).full
    sel = m.select(sizes, num_ctx=4096)
    assert sel.backend == "cpu"
    if VULKAN_BUILT:
        assert any("its plan uses CPU-type devices (llvmpipe" in s for s in sel.skipped)


@pytest.mark.usefixtures("lavapipe")
def test_asked_for_by_name_the_plan_takes_lavapipe_and_names_it_for_ggml(smollm2_path: Path,
                                                                          monkeypatch):
    """ggml-vulkan skips CPU-type devices unless GGML_VK_VISIBLE_DEVICES names them: the plan
    says so itself, for the manager to set while it loads the library."""
    monkeypatch.delenv("GGML_VK_VISIBLE_DEVICES", raising=False)
    sizes = model_sizes.read(smollm2_path)
    plan = vulkan_manager().plan("vulkan", sizes, num_ctx=512, explicit=True)
    assert plan.full and plan.devices == (0,)
    assert dict(plan.environment) == {"GGML_VK_VISIBLE_DEVICES": "0"}
    monkeypatch.setenv("GGML_VK_VISIBLE_DEVICES", "0")  # the user's own setting is left alone
    plan = vulkan_manager().plan("vulkan", sizes, num_ctx=512, explicit=True)
    assert plan.full and not plan.environment


GENERATE_ON_LAVAPIPE = """
import json, os
from llmrt.runtime.llm import LLM
with LLM("smollm2:135m", num_ctx=512, num_thread=2) as llm:
    plan = llm.model.placement
    r = llm.generate("The capital of France is", num_predict=4, temperature=0)
    print(json.dumps({"backend": plan.selection.backend, "devices": plan.devices,
                      "n_gpu_layers": plan.n_gpu_layers, "eval_count": r.eval_count,
                      "left_set": os.environ.get("GGML_VK_VISIBLE_DEVICES")}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not VULKAN_BUILT, reason="libggml-vulkan.so was not built")
@pytest.mark.usefixtures("lavapipe")
def test_llmrt_backend_vulkan_runs_the_model_on_lavapipe(tmp_path: Path):
    """The whole GPU-like path from LLMRT_BACKEND alone (no GGML_VK_VISIBLE_DEVICES):
    ggml_backend_load(libggml-vulkan.so) with the plan's environment, the device mapped to
    ggml's index, devices and n_gpu_layers in llama_model_params, then generation."""
    env = {k: v for k, v in os.environ.items() if k != "GGML_VK_VISIBLE_DEVICES"}
    out = subprocess.run([sys.executable, "-c", GENERATE_ON_LAVAPIPE], capture_output=True,
                         text=True, timeout=600, env={**env, "LLMRT_BACKEND": "vulkan"},
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["backend"] == "vulkan" and result["n_gpu_layers"] == 31
    assert len(result["devices"]) == 1 and result["eval_count"] == 4
    assert result["left_set"] is None  # set for the library's load only


def test_missing_loader_is_unavailable_with_a_reason(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LLMRT_VULKAN_LIBRARY", str(tmp_path / "libvulkan.so.1"))
    probe = vulkan_manager().probe("vulkan")
    assert probe.status is Status.UNAVAILABLE
    assert probe.reason.startswith("no Vulkan loader found")
