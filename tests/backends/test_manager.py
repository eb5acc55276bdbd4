"""The manager: isolated plugin loading, cached probes, and the choice of backend at load."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmrt.backends import BackendManager, DeviceKind, PluginLoadError, Status, model_sizes
from llmrt.backends.manager import ENV_BACKEND, ENV_DISABLE, ENV_STRICT
from llmrt.runtime import native
from llmrt.runtime.errors import BackendError

from .plugins_inline import ep


def manager(*names: str, env: dict[str, str] | None = None) -> BackendManager:
    return BackendManager(native.native_dir(), env=env or {}, eps=[ep(n) for n in names])


@pytest.fixture(scope="module")
def smollm2_sizes(smollm2_path: Path):
    return model_sizes.read(smollm2_path)


def test_builtins_come_from_our_own_entry_points():
    m = BackendManager(native.native_dir(), env={})
    assert m.names == ["cuda", "metal", "vulkan", "rpc", "cpu"]  # priority order
    assert {m.report(n).source.distribution for n in m.names} == {"llmrt"}
    assert m.host().info.name == "cpu" and not m.failures


def test_auto_choice_is_the_highest_priority_backend_that_fits(smollm2_sizes):
    m = manager("cpu", "gpu4", "gpu24", "tiny", "unbuilt", "softgpu")
    sel = m.select(smollm2_sizes, num_ctx=4096)
    assert sel.backend == "gpu24" and sel.placement.full
    assert sel.placement.n_gpu_layers == smollm2_sizes.n_layer + 1
    skipped = "\n".join(sel.skipped)
    assert "softgpu: no offload target: only CPU-type devices (llvmpipe)" in skipped
    assert "unbuilt: libfake.so was not built" in skipped
    assert "tiny: not even one layer fits" in skipped


def test_falls_back_to_the_host_when_nothing_fits(smollm2_sizes):
    m = manager("cpu", "tiny", "softgpu")
    sel = m.select(smollm2_sizes, num_ctx=4096)
    assert sel.backend == "cpu" and sel.placement.n_gpu_layers == 0
    assert sel.reason == "no other backend is available and fits"
    assert m.load(sel).devices == ()  # no device at all: not even a GPU loaded for another


def test_explicit_choice_wins_by_argument_and_by_env(smollm2_sizes):
    m = manager("cpu", "gpu4", "gpu24", env={ENV_BACKEND: "gpu4"})
    assert m.select(smollm2_sizes, num_ctx=4096).backend == "gpu4"
    assert m.select(smollm2_sizes, num_ctx=4096, backend="cpu").backend == "cpu"
    assert m.select(smollm2_sizes, num_ctx=4096).reason == f"{ENV_BACKEND}=gpu4"


def test_explicit_choice_fails_loudly(smollm2_sizes):
    m = manager("cpu", "unbuilt", "tiny")
    with pytest.raises(BackendError, match="no backend named 'nonesuch'; known: unbuilt"):
        m.select(smollm2_sizes, num_ctx=4096, backend="nonesuch")
    with pytest.raises(BackendError, match="'unbuilt' .* libfake.so was not built"):
        m.select(smollm2_sizes, num_ctx=4096, backend="unbuilt")
    with pytest.raises(BackendError, match="'tiny' .* cannot hold a single layer"):
        m.select(smollm2_sizes, num_ctx=4096, backend="tiny")


def test_cpu_type_devices_only_when_asked_for_by_name(smollm2_sizes):
    m = manager("cpu", "softgpu")
    auto = m.select(smollm2_sizes, num_ctx=4096)
    assert auto.backend == "cpu"
    assert m.report("softgpu").auto_why_not.startswith(
        "its only devices are CPU-type (llvmpipe), slower than the cpu backend")
    asked = m.select(smollm2_sizes, num_ctx=4096, backend="softgpu")
    assert asked.backend == "softgpu" and asked.placement.full
    assert asked.placement.devices == (0,) and asked.sizes == smollm2_sizes


def test_a_plugin_may_plan_for_itself(smollm2_sizes):
    sel = manager("cpu", "halfplan").select(smollm2_sizes, num_ctx=4096)
    assert sel.backend == "halfplan" and sel.placement.n_gpu_layers == 3
    assert sel.placement.reason == "three layers, always"


def test_misbehaving_probes_become_unavailable_with_the_reason():
    m = manager("cpu", "raising", "wrongtype")
    raising = m.probe("raising")
    assert raising.status is Status.UNAVAILABLE
    assert raising.reason == "its probe raised RuntimeError: the driver is on fire"
    assert m.probe("wrongtype").reason == "its probe returned dict, not a ProbeResult"
    assert m.probe("cpu").is_available


def test_probes_are_cached_until_refreshed():
    m = manager("cpu", "gpu4")
    first = m.probe("gpu4")
    assert m.probe("gpu4") is first
    assert m.probe("gpu4", refresh=True) is not first


def test_broken_plugins_are_reported_and_skipped():
    m = manager("cpu", "gpu24", "zz_dup", "misspelt", "nonexistent")
    assert m.names == ["gpu24", "cpu"]
    errors = {f.source.entry_point: f.error for f in m.failures}
    assert "'gpu24' is already taken by gpu24" in errors["zz_dup"]
    assert "llmrt_backend_prob" in errors["misspelt"]
    assert errors["nonexistent"].startswith("AttributeError")


def test_strict_mode_reraises():
    with pytest.raises(PluginLoadError, match="nonexistent .* failed to load") as info:
        manager("cpu", "nonexistent", env={ENV_STRICT: "1"})
    assert isinstance(info.value.__cause__, AttributeError)


def test_block_list_skips_plugins_without_importing_them():
    m = manager("cpu", "gpu24", "nonexistent", env={ENV_DISABLE: "gpu24, nonexistent"})
    assert m.names == ["cpu"] and not m.failures  # 'nonexistent' was never imported
    assert [s.entry_point for s in m.disabled] == ["gpu24", "nonexistent"]


def test_without_a_host_nothing_loads(smollm2_sizes):
    m = manager("cpu", "gpu24", env={ENV_DISABLE: "cpu"})
    with pytest.raises(BackendError, match="no host .* LLMRT_DISABLE_BACKENDS disables it"):
        m.select(smollm2_sizes, num_ctx=4096)


def test_unreadable_model_sizes_keep_the_model_on_the_host():
    sel = manager("cpu", "gpu24").select(None, num_ctx=4096)
    assert sel.backend == "cpu"
    assert "gpu24: the model's sizes are unknown" in sel.skipped


def test_host_loads_the_variant_the_cpu_plugin_chose():
    m = manager("cpu")
    variant = m.ensure_host()
    assert variant == native.ensure_backends() == native.cpu_variant()
    cpu = m.probe("cpu")
    assert cpu.properties["variant"] == variant
    assert cpu.devices[0].kind is DeviceKind.CPU


def test_load_maps_planned_devices_to_ggml_devices(smollm2_path: Path, smollm2_sizes):
    """The whole load path on a GPU-less machine: a plugin that offers the host's CPU device as
    an offload target, with the already-loaded CPU variant as its library."""
    from llmrt.runtime._bindings.backend import devices
    from llmrt.runtime.model import Model

    m = manager("cpu", "hostalias")
    sel = m.select(smollm2_sizes, num_ctx=4096, backend="hostalias")
    plan = m.load(sel)
    [cpu] = [d for d in devices() if d.name == "CPU"]
    assert plan.devices == (cpu.index,) and plan.n_gpu_layers == smollm2_sizes.n_layer + 1
    with Model(smollm2_path, devices=list(plan.devices), n_gpu_layers=plan.n_gpu_layers) as model:
        assert model.tokenizer.tokenize("Hello") != []
