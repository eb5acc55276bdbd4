"""Scheduler behaviour through the API: reloads on new load options, eviction, keep_alive."""

from __future__ import annotations

import math

import anyio
import httpx
import pytest
from llmrt.api.app import create_app
from llmrt.runtime.scheduler import parse_keep_alive

from tests.api.conftest import app_config

pytestmark = pytest.mark.anyio


async def _client(**sched):
    app = create_app(app_config(**sched))
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                  timeout=120)


async def _ps(c) -> list[dict]:
    return (await c.get("/api/ps")).json()["models"]


async def test_new_load_options_reload_the_model():
    app, c = await _client()
    async with app.router.lifespan_context(app), c:
        await c.post("/api/generate", json={"model": "smollm2:135m"})
        assert [m["context_length"] for m in await _ps(c)] == [2048]
        await c.post("/api/generate", json={"model": "smollm2:135m",
                                            "options": {"num_ctx": 1024}})
        assert [m["context_length"] for m in await _ps(c)] == [1024]


async def test_full_scheduler_evicts_the_idle_model():
    app, c = await _client(max_loaded_models=1)
    async with app.router.lifespan_context(app), c:
        await c.post("/api/generate", json={"model": "smollm2:135m"})
        await c.post("/api/generate", json={"model": "gemma3:270m"})
        assert [m["name"] for m in await _ps(c)] == ["gemma3:270m"]


async def test_expired_keep_alive_unloads():
    app, c = await _client()
    async with app.router.lifespan_context(app), c:
        await c.post("/api/generate", json={"model": "smollm2:135m", "keep_alive": "1s"})
        assert len(await _ps(c)) == 1

        with anyio.fail_after(10):
            while await _ps(c):
                await anyio.sleep(0.2)


@pytest.mark.parametrize(("value", "seconds"), [
    (300, 300.0), (1.5, 1.5), ("5m", 300.0), ("1h30m", 5400.0), ("250ms", 0.25), ("10", 10.0),
    (0, 0.0), ("0", 0.0), (-1, math.inf), ("-1m", math.inf), (None, None)])

def test_parse_keep_alive(value, seconds):
    assert parse_keep_alive(value) == seconds


@pytest.mark.parametrize("bad", ["5 minutes", "m5", "", True])

def test_parse_keep_alive_rejects(bad):
    with pytest.raises(ValueError):
        parse_keep_alive(bad)
