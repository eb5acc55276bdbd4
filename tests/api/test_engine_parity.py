"""Both engines give the same greedy output for the same request, on both models."""

from __future__ import annotations

import httpx
import pytest
from llmrt.api.app import create_app

from tests.api.conftest import ENGINES, app_config

pytestmark = pytest.mark.anyio


async def _greedy(engine: str, model: str) -> list[str]:
    app = create_app(app_config(engine=engine))
    out = []
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=120) as c:
        for prompt in ("Name three fruits.", "What is the capital of Italy?"):
            r = await c.post("/api/chat", json={
                "model": model, "stream": False, "options": {"temperature": 0, "num_predict": 24},
                "messages": [{"role": "user", "content": prompt}]})
            out.append(r.json()["message"]["content"])
        r = await c.post("/api/generate", json={
            "model": model, "prompt": "Once upon a time", "raw": True, "stream": False,
            "options": {"temperature": 0, "num_predict": 24}})
        out.append(r.json()["response"])
    return out


@pytest.mark.parametrize("model", ["smollm2:135m", "gemma3:270m"])
async def test_greedy_outputs_identical_across_engines(model):
    inprocess, subprocess = [await _greedy(e, model) for e in ENGINES]
    assert all(inprocess) and inprocess == subprocess
