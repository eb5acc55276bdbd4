"""ggml backend registry: load backend libraries by path, list devices, run a probe matmul."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from ..errors import BackendError
from ._lib import NULL, check_ptr, cstr, ffi, lib

DEVICE_TYPES = {
    lib.GGML_BACKEND_DEVICE_TYPE_CPU: "cpu",
    lib.GGML_BACKEND_DEVICE_TYPE_GPU: "gpu",
    lib.GGML_BACKEND_DEVICE_TYPE_IGPU: "igpu",
    lib.GGML_BACKEND_DEVICE_TYPE_ACCEL: "accel",
}


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    index: int
    name: str
    description: str
    type: str
    backend: str
    memory_free: int
    memory_total: int


_loaded: dict[str, str] = {}  # path -> registry name


def load_backend(path: str) -> str:
    """Load a ggml backend library (idempotent per path); return its registry name."""
    if path in _loaded:
        return _loaded[path]
    reg = check_ptr(lib.ggml_backend_load(path.encode()), f"ggml_backend_load({path})",
                    BackendError)
    name = cstr(lib.ggml_backend_reg_name(reg))
    _loaded[path] = name
    return name


def loaded_backends() -> dict[str, str]:
    return dict(_loaded)


def registries() -> list[str]:
    return [cstr(lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(i)))
            for i in range(lib.ggml_backend_reg_count())]


def devices() -> list[DeviceInfo]:
    out = []
    for i in range(lib.ggml_backend_dev_count()):
        dev = lib.ggml_backend_dev_get(i)
        free = ffi.new("size_t *")
        total = ffi.new("size_t *")
        lib.ggml_backend_dev_memory(dev, free, total)
        reg = lib.ggml_backend_dev_backend_reg(dev)
        out.append(DeviceInfo(
            index=i,
            name=cstr(lib.ggml_backend_dev_name(dev)),
            description=cstr(lib.ggml_backend_dev_description(dev)),
            type=DEVICE_TYPES.get(lib.ggml_backend_dev_type(dev), "unknown"),
            backend=cstr(lib.ggml_backend_reg_name(reg)),
            memory_free=int(free[0]),
            memory_total=int(total[0]),
        ))
    return out


def device_handles(indices: list[int]) -> object:
    """A NULL-terminated ``ggml_backend_dev_t[]`` for llama_model_params.devices (keep it alive)."""
    arr = ffi.new("ggml_backend_dev_t[]", len(indices) + 1)
    for j, i in enumerate(indices):
        arr[j] = lib.ggml_backend_dev_get(i)
    arr[len(indices)] = NULL
    return arr


def system_info() -> str:
    return cstr(lib.llama_print_system_info())


def probe_matmul(registry: str, n_threads: int = 1) -> list[str]:
    """Run a small quantized matmul on every buffer type of ``registry``'s first device.

    The weights go into the device's default buffer type and into each of its extra buffer types
    (repacked AMX/AVX layouts: the ones llama.cpp uses for model weights), so the kernels a real
    model would run are executed. Returns the buffer types that ran and gave the right answer;
    raises BackendError on a wrong result. A variant whose instructions fault kills the process,
    which is why callers run this in a child process.
    """
    reg = check_ptr(lib.ggml_backend_reg_by_name(registry.encode()), f"registry {registry}",
                    BackendError)
    if lib.ggml_backend_reg_dev_count(reg) == 0:
        raise BackendError(f"{registry} has no devices")
    dev = lib.ggml_backend_reg_dev_get(reg, 0)
    backend = check_ptr(lib.ggml_backend_dev_init(dev, NULL), "ggml_backend_dev_init",
                        BackendError)
    try:
        set_threads = lib.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_set_n_threads")
        if set_threads != NULL:
            ffi.cast("ggml_backend_set_n_threads_t", set_threads)(backend, n_threads)
        bufts = [lib.ggml_backend_dev_buffer_type(dev)]
        extra = lib.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_dev_get_extra_bufts")
        if extra != NULL:
            p = ffi.cast("ggml_backend_dev_get_extra_bufts_t", extra)(dev)
            i = 0
            while p != NULL and p[i] != NULL:
                bufts.append(p[i])
                i += 1
        ran = []
        for buft in bufts:
            name = cstr(lib.ggml_backend_buft_name(buft))
            for qtype, qname in ((lib.GGML_TYPE_Q8_0, "q8_0"), (lib.GGML_TYPE_Q4_0, "q4_0")):
                if _matmul_once(dev, backend, buft, qtype):
                    ran.append(f"{name}/{qname}")
        return ran
    finally:
        lib.ggml_backend_free(backend)


def _matmul_once(dev: object, backend: object, weight_buft: object, qtype: int) -> bool:
    """Run one matmul with weights in ``weight_buft``; False if the device would not use it."""
    k, m, n = 256, 64, 8  # weights m x k (k a multiple of every quant block), activations n x k
    rnd = random.Random(1234)
    w = [rnd.uniform(-1, 1) for _ in range(k * m)]
    x = [rnd.uniform(-1, 1) for _ in range(k * n)]
    params = ffi.new("struct ggml_init_params *")
    params.mem_size = lib.ggml_tensor_overhead() * 8 + lib.ggml_graph_overhead()
    params.mem_buffer = NULL
    params.no_alloc = True
    # weights live in their own ggml context so that they can go to the buffer type under test
    wctx = check_ptr(lib.ggml_init(params[0]), "ggml_init", BackendError)
    ctx = check_ptr(lib.ggml_init(params[0]), "ggml_init", BackendError)
    bufs = []
    try:
        tw = lib.ggml_new_tensor_2d(wctx, qtype, k, m)
        tx = lib.ggml_new_tensor_2d(ctx, lib.GGML_TYPE_F32, k, n)
        ty = lib.ggml_mul_mat(ctx, tw, tx)
        graph = lib.ggml_new_graph(ctx)
        lib.ggml_build_forward_expand(graph, ty)
        bufs.append(check_ptr(lib.ggml_backend_alloc_ctx_tensors_from_buft(wctx, weight_buft),
                              "alloc weights", BackendError))
        if not lib.ggml_backend_dev_supports_op(dev, ty):
            return False  # llama.cpp would not put such weights in this buffer type either
        default_buft = lib.ggml_backend_dev_buffer_type(lib.ggml_backend_get_device(backend))
        bufs.append(check_ptr(lib.ggml_backend_alloc_ctx_tensors_from_buft(ctx, default_buft),
                              "alloc activations", BackendError))
        wq = ffi.new("char[]", 4 * k * m)
        nbytes = lib.ggml_quantize_chunk(qtype, ffi.new("float[]", w), wq, 0, m, k, NULL)
        lib.ggml_backend_tensor_set(tw, wq, 0, nbytes)
        lib.ggml_backend_tensor_set(tx, ffi.new("float[]", x), 0, 4 * k * n)
        status = lib.ggml_backend_graph_compute(backend, graph)
        if status != lib.GGML_STATUS_SUCCESS:
            raise BackendError(f"probe graph compute failed (status {status})")
        out = ffi.new("float[]", m * n)
        lib.ggml_backend_tensor_get(ty, out, 0, 4 * m * n)
    finally:
        for b in bufs:
            lib.ggml_backend_buffer_free(b)
        lib.ggml_free(ctx)
        lib.ggml_free(wctx)
    # reference in Python: y[j][i] = sum_t w[i][t] * x[j][t]; compare by relative RMS error
    err2 = ref2 = 0.0
    for j in range(n):
        for i in range(m):
            ref = math.fsum(w[i * k + t] * x[j * k + t] for t in range(k))
            err2 += (out[j * m + i] - ref) ** 2
            ref2 += ref * ref
    rel = math.sqrt(err2 / ref2)
    if not rel < 0.2:  # 4-bit weights land near 0.06; wrong kernels give ~1 or NaN
        raise BackendError(f"probe matmul gave a wrong result (relative error {rel:.3f})")
    return True
