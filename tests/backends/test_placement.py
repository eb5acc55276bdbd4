"""Placement plans for synthetic devices of 4, 8 and 24 GiB, for both test models."""

from __future__ import annotations

import pytest
from llmrt.backends import DeviceKind, DeviceRecord, ModelSizes, model_sizes, placement
from llmrt.runtime import bundled

GiB = 1 << 30
SIZES_GIB = (4, 8, 24)


@pytest.fixture(scope="module", params=["smollm2:135m", "gemma3:270m"])
def model(request: pytest.FixtureRequest) -> ModelSizes:
    return model_sizes.read(bundled.ensure(request.param))


def device(gib: float, kind: DeviceKind = DeviceKind.GPU, free_gib: float | None = None,
           name: str = "") -> DeviceRecord:
    total = int(gib * GiB)
    free = total if free_gib is None else int(free_gib * GiB)
    return DeviceRecord(name=name or f"GPU{gib:g}", kind=kind, memory_total=total,
                        memory_free=free)


def assert_fits_and_is_maximal(p, model: ModelSizes) -> None:
    """The plan stays within budget, and one more layer (or the head) would not fit."""
    if p.n_gpu_layers == 0:
        assert p.devices == () and p.used_bytes == 0
        layer = model.layer_bytes[-1] + placement.kv_bytes_per_layer(model, p.num_ctx, p.parallel)
        assert placement.compute_bytes(model, p.num_ctx, p.parallel) + layer > p.budget_bytes
        return
    assert p.used_bytes <= p.budget_bytes
    kv_layer = placement.kv_bytes_per_layer(model, p.num_ctx, p.parallel)
    layers = min(p.n_gpu_layers, model.n_layer)
    assert p.weights_bytes == sum(model.layer_bytes[model.n_layer - layers:]) + (
        model.output_bytes if p.full else 0)
    assert p.kv_bytes == layers * kv_layer
    if p.full:
        return
    if layers < model.n_layer:
        next_layer = model.layer_bytes[model.n_layer - layers - 1] + kv_layer
    else:
        next_layer = model.output_bytes
    assert p.compute_bytes + p.weights_bytes + p.kv_bytes + next_layer > p.budget_bytes


@pytest.mark.parametrize("gib", SIZES_GIB)
def test_small_context_offloads_everything(model: ModelSizes, gib: int):
    p = placement.plan("fake", [device(gib)], model, num_ctx=4096)
    assert p.full and p.n_gpu_layers == model.n_layer + 1 and p.devices == (0,)
    assert_fits_and_is_maximal(p, model)
    assert p.budget_bytes == gib * GiB - max(placement.MARGIN_MIN, int(gib * GiB * 0.1))
    assert "all layers and the output head" in p.reason


@pytest.mark.parametrize("gib", SIZES_GIB)
def test_long_contexts_offload_as_many_layers_as_fit(model: ModelSizes, gib: int):
    # 64k tokens x 4 sequences: the KV cache and attention scores, not the weights, decide
    p = placement.plan("fake", [device(gib)], model, num_ctx=65536, parallel=4)
    assert_fits_and_is_maximal(p, model)
    if gib == 4:
        assert not p.full  # 4 GiB cannot hold 256k tokens of KV for either model
    if gib == 24:
        assert p.full


def test_more_memory_never_means_fewer_layers(model: ModelSizes):
    for num_ctx, parallel in ((4096, 1), (32768, 4), (131072, 4), (131072, 16)):
        layers = [placement.plan("fake", [device(g)], model, num_ctx=num_ctx,
                                 parallel=parallel).n_gpu_layers for g in SIZES_GIB]
        assert layers == sorted(layers), (num_ctx, parallel, layers)


def test_kv_cache_matches_llama_cpp(model: ModelSizes):
    # llama.cpp logs "KV buffer size = 90.00 MiB" (smollm2) and 12 + 60 MiB (gemma3) at 4096
    expected = {"llama": 90, "gemma3": 72}[model.architecture]
    kv = placement.kv_bytes_per_layer(model, 4096) * model.n_layer
    assert kv == expected * (1 << 20)


def test_free_memory_not_total_decides(model: ModelSizes):
    busy = placement.plan("fake", [device(24, free_gib=0.5)], model, num_ctx=4096)
    assert busy.n_gpu_layers == 0 and busy.devices == ()
    assert "not even one layer fits" in busy.reason


def test_cpu_type_devices_are_never_offload_targets(model: ModelSizes):
    lavapipe = device(24, DeviceKind.CPU, name="llvmpipe (LLVM 15.0.6, 256 bits)")
    p = placement.plan("vulkan", [lavapipe], model, num_ctx=4096)
    assert p.n_gpu_layers == 0 and p.devices == ()
    assert "only CPU-type devices (llvmpipe" in p.reason
    mixed = placement.plan("vulkan", [lavapipe, device(8)], model, num_ctx=4096)
    assert mixed.devices == (1,) and mixed.full


def test_several_devices_pool_their_budgets(model: ModelSizes):
    num_ctx, parallel = 131072, 4
    one = placement.plan("fake", [device(8)], model, num_ctx=num_ctx, parallel=parallel)
    two = placement.plan("fake", [device(8), device(8)], model, num_ctx=num_ctx,
                         parallel=parallel)
    assert two.devices == (0, 1)
    assert two.budget_bytes == 2 * one.budget_bytes
    assert two.n_gpu_layers >= one.n_gpu_layers
    assert_fits_and_is_maximal(two, model)


def test_explain_names_the_numbers(model: ModelSizes):
    p = placement.plan("fake", [device(8)], model, num_ctx=4096)
    text = placement.explain(p)
    assert text.startswith(f"fake: n_gpu_layers={model.n_layer + 1} of {model.n_layer + 1}")
    assert "GiB usable" in text and "KV" in text
