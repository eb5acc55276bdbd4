"""Models running on the vulkan backend, chosen explicitly, on a real Vulkan device (lavapipe
here: Mesa's CPU-type device, installed by .ci/run): the logits agree with the cpu backend's,
the server generates and reports the layers on the device, every route of the explicit choice
works, and nothing runs there unless asked for.

Lavapipe makes about 2 tokens/s: every generation here is a handful of tokens on a small
context. Skipped only when libggml-vulkan.so was not built or no Vulkan device exists.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from llmrt.api.app import create_app
from llmrt.backends import BackendManager, LoadPlan, Status
from llmrt.runtime import native
from llmrt.runtime._bindings import backend as ggml
from llmrt.runtime.batch import Batch
from llmrt.runtime.context import Context
from llmrt.runtime.loader import open_model
from llmrt.runtime.model import Model

from tests.api.conftest import Server, app_config
from tests.conftest import LAVAPIPE, free_port, require_system

from .plugins_inline import ep

PROMPT = "The capital of France is"
NUM_CTX = 256
SMOLLM2_LAYERS = 31  # 30 repeating layers and the output head


@pytest.fixture(scope="module", autouse=True)
def vulkan_device() -> str:
    """The Vulkan device's name, or skip with the reason there is none."""
    require_system(LAVAPIPE, "no Vulkan driver (Mesa's lavapipe)",
                   "libvulkan1 mesa-vulkan-drivers")
    require_system((native.native_dir() / "libggml-vulkan.so").exists(),
                   "libggml-vulkan.so was not built (its build needs the Vulkan headers and "
                   "glslc; then reinstall)", "libvulkan-dev glslc spirv-headers")
    m = BackendManager(native.native_dir(), env={}, eps=[ep("cpu"), ep("vulkan")])
    probe = m.probe("vulkan")
    if probe.status is not Status.AVAILABLE or not probe.devices:
        pytest.skip(f"no Vulkan device: {probe.reason}")
    return probe.devices[0].name


@pytest.fixture(autouse=True)
def no_user_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the caller's shell says, the choices here are the tests' own."""
    for name in ("LLMRT_BACKEND", "GGML_VK_VISIBLE_DEVICES", "LLMRT_DISABLE_BACKENDS"):
        monkeypatch.delenv(name, raising=False)


def last_logits(model: Model) -> list[float]:
    with Context(model, n_ctx=NUM_CTX, n_batch=NUM_CTX, n_threads=2) as ctx:
        tokens = model.tokenizer.encode_prompt(PROMPT)
        with Batch(len(tokens), 1) as batch:
            i = batch.add_run(tokens, 0, 0, last_output=True)
            ctx.decode(batch)
            return ctx.logits(i)


def cosine(a: list[float], b: list[float]) -> float:
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(math.fsum(x * x for x in a) * math.fsum(y * y for y in b))


def argmax(v: list[float]) -> int:
    return max(range(len(v)), key=v.__getitem__)


@pytest.fixture(scope="module")
def on_vulkan(smollm2_path: Path) -> Iterator[Model]:
    """SmolLM2 loaded with ``backend="vulkan"``; the Vulkan library stays loaded afterwards."""
    with open_model(smollm2_path, num_ctx=NUM_CTX, backend="vulkan") as model:
        yield model


def test_asked_for_every_layer_is_on_the_vulkan_device(on_vulkan: Model, vulkan_device: str):
    plan = on_vulkan.placement
    assert isinstance(plan, LoadPlan) and plan.selection.backend == "vulkan"
    assert plan.selection.reason == "asked for"
    assert plan.n_gpu_layers == SMOLLM2_LAYERS == on_vulkan.info.n_layer + 1
    [index] = plan.devices or [None]
    device = next(d for d in ggml.devices() if d.index == index)
    assert device.backend == "Vulkan" and device.description == vulkan_device
    assert on_vulkan.offloaded_bytes == on_vulkan.info.size > 0
    assert "GGML_VK_VISIBLE_DEVICES" not in os.environ  # set only while ggml loaded it


def test_a_partial_offload_counts_only_the_layers_on_the_device(smollm2_path: Path,
                                                               caplog: pytest.LogCaptureFixture):
    """``num_gpu`` overrides the plan's layer count; size_vram follows what was offloaded."""
    with (caplog.at_level(logging.INFO, logger="llmrt.llama"),
          open_model(smollm2_path, num_ctx=NUM_CTX, backend="vulkan", n_gpu_layers=10) as model):
        assert model.placement is not None and model.n_gpu_layers == 10
        sizes = model.placement.selection.sizes
        assert sizes is not None
        assert model.offloaded_bytes == sum(sizes.layer_bytes[-10:])
        assert 0 < model.offloaded_bytes < model.info.size // 3
    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "llmrt.llama")
    assert f"offloaded 10/{SMOLLM2_LAYERS} layers to GPU" in log


def test_logits_match_the_cpu_backend(on_vulkan: Model, smollm2_path: Path):
    """fp16 arithmetic on the device: close to the CPU's logits, not equal."""
    vulkan = last_logits(on_vulkan)
    with open_model(smollm2_path, num_ctx=NUM_CTX, backend="cpu") as model:
        cpu = last_logits(model)
    similarity = cosine(vulkan, cpu)
    assert argmax(vulkan) == argmax(cpu), (argmax(vulkan), argmax(cpu), similarity)
    assert similarity >= 0.99, similarity
    assert vulkan != cpu  # two backends really ran


def test_without_a_choice_the_cpu_backend_runs_everything(on_vulkan: Model, smollm2_path: Path,
                                                          caplog: pytest.LogCaptureFixture):
    """Even with the Vulkan library loaded in this process, a model nobody placed there gets no
    device at all: no layer, no KV cache and no compute buffer on Vulkan0."""
    assert "Vulkan" in ggml.registries()
    with (caplog.at_level(logging.INFO, logger="llmrt.llama"),
          open_model(smollm2_path, num_ctx=NUM_CTX) as model):
        logits = last_logits(model)
        assert model.placement is not None and model.placement.selection.backend == "cpu"
        assert model.devices == () and model.offloaded_bytes == 0
    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "llmrt.llama")
    assert f"offloaded 0/{SMOLLM2_LAYERS} layers to GPU" in log
    assert "CPU compute buffer size" in log and "Vulkan" not in log
    assert argmax(logits) == argmax(last_logits(on_vulkan))


# ---- through the server ---------------------------------------------------------------------

@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture()
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(app_config(num_parallel=1, context_length=512))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                     timeout=300) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def generate(c: httpx.AsyncClient, model: str, **options: Any) -> dict[str, Any]:
    r = await c.post("/api/generate", json={
        "model": model, "prompt": PROMPT, "stream": False,
        "options": {"num_predict": 3, "temperature": 0, **options}})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def loaded(c: httpx.AsyncClient) -> tuple[dict[str, Any], Any]:
    """The one model /api/ps lists, and the engine's model behind it."""
    [ps] = (await c.get("/api/ps")).json()["models"]
    [runner] = c.app.state.scheduler.loaded()  # type: ignore[attr-defined]
    return ps, runner.engine.model


@pytest.mark.anyio
async def test_server_generates_on_vulkan_when_asked_and_on_cpu_otherwise(client):
    """Request option, then Modelfile PARAMETER, then no choice: /api/ps says where it runs."""
    first = await generate(client, "smollm2:135m")
    ps, model = await loaded(client)
    assert model.placement.selection.backend == "cpu" and ps["size_vram"] == 0
    assert first["eval_count"] == 3

    on_vulkan = await generate(client, "smollm2:135m", backend="vulkan")  # reloads
    assert on_vulkan["done"] and on_vulkan["eval_count"] == 3 and on_vulkan["response"]
    ps, model = await loaded(client)
    assert model.placement.selection.backend == "vulkan"
    assert model.placement.n_gpu_layers == SMOLLM2_LAYERS
    assert ps["size_vram"] == ps["size"] == model.info.size > 50_000_000

    r = await client.post("/api/create", json={
        "model": "smollm2-vulkan", "stream": False,
        "modelfile": "FROM smollm2:135m\nPARAMETER backend vulkan\n"})
    assert r.status_code == 200, r.text
    show = (await client.post("/api/show", json={"model": "smollm2-vulkan"})).json()
    assert "backend" in show["parameters"] and "vulkan" in show["parameters"]
    by_modelfile = await generate(client, "smollm2-vulkan", num_predict=2)
    assert by_modelfile["eval_count"] == 2
    ps, model = await loaded(client)  # the same load options: the vulkan instance is kept
    assert model.placement.selection.backend == "vulkan" and ps["size_vram"] == ps["size"]

    await generate(client, "smollm2:135m")  # no choice: back on the cpu backend
    ps, model = await loaded(client)
    assert model.placement.selection.backend == "cpu" and ps["size_vram"] == 0


@pytest.mark.anyio
async def test_unknown_backend_is_an_error_naming_the_known_ones(client):
    r = await client.post("/api/generate", json={
        "model": "smollm2:135m", "prompt": "Hi", "options": {"backend": "nonesuch"}})
    assert r.status_code == 500
    assert "no backend named 'nonesuch'; known: " in r.json()["error"]
    assert "vulkan" in r.json()["error"]


# ---- the command line -----------------------------------------------------------------------

def llmrt(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LLMRT_BACKEND", "GGML_VK_VISIBLE_DEVICES")}
    out = subprocess.run([sys.executable, "-m", "llmrt", *args], capture_output=True, text=True,
                         timeout=300, env={**env, "LLMRT_HOST": url.removeprefix("http://")})
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_doctor_reports_lavapipe_available_cpu_type_and_not_automatic(vulkan_device: str):
    report = json.loads(llmrt("doctor", "--json", url=f"127.0.0.1:{free_port()}").stdout)
    [vulkan] = [b for b in report["backends"] if b["name"] == "vulkan"]
    assert vulkan["status"] == "available" and vulkan["selectable"] and not vulkan["why_not"]
    assert [(d["name"], d["kind"]) for d in vulkan["devices"]] == [(vulkan_device, "cpu")]
    assert not vulkan["automatic"]
    assert vulkan["auto_why_not"].startswith(f"its only devices are CPU-type ({vulkan_device})")
    assert "never chosen automatically" in vulkan["reason"]
    table = llmrt("doctor", url=f"127.0.0.1:{free_port()}").stdout
    assert "not chosen automatically" in table


def test_llmrt_run_backend_flag_and_ps():
    server = Server(LLMRT_CONTEXT_LENGTH="512", LLMRT_NUM_PARALLEL="1")
    try:
        r = httpx.post(server.url + "/api/create", timeout=60, json={
            "model": "smollm2-short", "stream": False,
            "modelfile": "FROM smollm2:135m\nPARAMETER num_predict 3\n"
                         "PARAMETER temperature 0\n"})
        assert r.status_code == 200, r.text
        out = llmrt("run", "--backend", "vulkan", "smollm2-short", PROMPT, url=server.url)
        assert out.stdout.strip()
        ps = llmrt("ps", url=server.url).stdout
        assert "smollm2-short" in ps and "100% GPU" in ps, ps
        [m] = httpx.get(server.url + "/api/ps", timeout=10).json()["models"]
        assert m["size_vram"] == m["size"] > 0
    finally:
        server.close()
