"""Placement: how many of a model's layers fit on a backend's devices. Pure functions.

The estimate, per offloaded repeating layer: its weights (from the GGUF tensor sizes) plus its
share of the KV cache, ``num_ctx x parallel x n_head_kv x (head_dim_k + head_dim_v) x 2``
bytes (f16 K and V, llama.cpp's default). Once anything is offloaded the device also holds a
compute buffer (see ``compute_bytes``), and the output head when every layer fits. llama.cpp
offloads the *last* ``n_gpu_layers`` layers, so layers are added from the end.

Usable memory per device is its free memory less a safety margin (10% of its total, at least
512 MiB) for the driver's context, fragmentation and what the estimate misses. Devices of kind
CPU (lavapipe, for one) are never offload targets. With several devices the budgets add up:
llama.cpp splits the offloaded layers across them in proportion to their free memory.
Sliding-window layers (gemma3) are counted with a full-size KV cache, an overestimate.
"""

from __future__ import annotations

from collections.abc import Sequence

from .types import DeviceKind, DeviceRecord, ModelSizes, Placement

MiB = 1 << 20
GiB = 1 << 30
MARGIN_FRACTION = 0.10
MARGIN_MIN = 512 * MiB
KV_TYPE_SIZE = 2  # bytes per K or V element: f16
N_UBATCH = 512  # llama.cpp's default physical batch


def margin(device: DeviceRecord) -> int:
    """Memory kept free on ``device`` whatever the plan."""
    return max(MARGIN_MIN, int(device.memory_total * MARGIN_FRACTION))


def usable(device: DeviceRecord) -> int:
    return max(0, device.memory_free - margin(device))


def kv_bytes_per_layer(model: ModelSizes, num_ctx: int, parallel: int = 1,
                       type_size: int = KV_TYPE_SIZE) -> int:
    """K and V cache of one layer for ``num_ctx x parallel`` tokens."""
    return (num_ctx * parallel * model.n_head_kv * (model.head_dim_k + model.head_dim_v)
            * type_size)


def compute_bytes(model: ModelSizes, num_ctx: int, parallel: int = 1,
                  n_ubatch: int = N_UBATCH) -> int:
    """llama.cpp's compute buffer for one ubatch, from its largest live tensors (all f32):
    the larger of the logits (``n_ubatch x n_vocab``) and the attention scores without flash
    attention (``n_ubatch x n_ctx x n_head``), plus the feed-forward activations. Within a few
    percent above what llama.cpp reserves for both test models."""
    logits = n_ubatch * model.n_vocab * 4
    attention = n_ubatch * num_ctx * parallel * model.n_head * 4
    ffn = n_ubatch * (2 * model.n_ff + 4 * model.n_embd) * 4
    return max(logits, attention) + ffn


def offloaded_bytes(model: ModelSizes, n_gpu_layers: int) -> int:
    """Weights on the devices when llama.cpp offloads ``n_gpu_layers``: the last layers, then
    the output head once every layer is there (what ``plan`` counts as ``weights_bytes``)."""
    layers = max(0, min(n_gpu_layers, model.n_layer))
    out = sum(model.layer_bytes[model.n_layer - layers:]) if layers else 0
    return out + (model.output_bytes if n_gpu_layers > model.n_layer else 0)


def host(backend: str, n_layer: int, *, num_ctx: int, parallel: int = 1,
         reason: str = "every layer runs on the CPU") -> Placement:
    """The plan that keeps everything on the host."""
    return Placement(backend=backend, devices=(), n_gpu_layers=0, n_layer=n_layer,
                     num_ctx=num_ctx, parallel=parallel, reason=reason)


def plan(backend: str, devices: Sequence[DeviceRecord], model: ModelSizes, *, num_ctx: int,
         parallel: int = 1, include_cpu: bool = False) -> Placement:
    """Offload as many layers as fit on the non-CPU ``devices`` (indices into ``devices``);
    ``include_cpu`` also takes CPU-type ones (only for a choice the user made explicitly)."""
    targets = [(i, d) for i, d in enumerate(devices)
               if include_cpu or d.kind is not DeviceKind.CPU]
    if not targets:
        cpu_like = ", ".join(d.name for d in devices) or "none"
        return host(backend, model.n_layer, num_ctx=num_ctx, parallel=parallel,
                    reason=f"no offload target: only CPU-type devices ({cpu_like})")
    budget = sum(usable(d) for _, d in targets)
    compute = compute_bytes(model, num_ctx, parallel)
    kv_layer = kv_bytes_per_layer(model, num_ctx, parallel)
    weights = kv = layers = 0
    for layer in reversed(model.layer_bytes):
        if compute + weights + kv + layer + kv_layer > budget:
            break
        weights += layer
        kv += kv_layer
        layers += 1
    n_gpu_layers = layers
    if layers == model.n_layer and compute + weights + kv + model.output_bytes <= budget:
        weights += model.output_bytes
        n_gpu_layers += 1
    if n_gpu_layers == 0:
        return Placement(backend=backend, devices=(), n_gpu_layers=0, n_layer=model.n_layer,
                         num_ctx=num_ctx, parallel=parallel, budget_bytes=budget,
                         reason=f"not even one layer fits: {_gib(budget)} usable, compute "
                                f"buffer {_gib(compute)} + one layer "
                                f"{_gib(model.layer_bytes[-1] + kv_layer if model.n_layer else 0)}")
    names = ", ".join(d.name for _, d in targets)
    what = ("all layers and the output head" if n_gpu_layers > model.n_layer
            else f"{layers} of {model.n_layer} layers")
    return Placement(
        backend=backend, devices=tuple(i for i, _ in targets), n_gpu_layers=n_gpu_layers,
        n_layer=model.n_layer, num_ctx=num_ctx, parallel=parallel, weights_bytes=weights,
        kv_bytes=kv, compute_bytes=compute, budget_bytes=budget,
        reason=f"{what} on {names}: weights {_gib(weights)} + KV {_gib(kv)} + compute "
               f"{_gib(compute)} of {_gib(budget)} usable")


def explain(p: Placement) -> str:
    """A few lines for logs and ``llmrt doctor``."""
    head = (f"{p.backend}: n_gpu_layers={p.n_gpu_layers} of {p.n_layer + 1} "
            f"(num_ctx {p.num_ctx} x parallel {p.parallel})")
    return f"{head}\n  {p.reason}"


def _gib(n: int) -> str:
    return f"{n / GiB:.2f} GiB"
