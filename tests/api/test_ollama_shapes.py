"""Ollama's /api/* shapes and errors, in-process through httpx's ASGI transport."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.anyio
GEN = {"model": "smollm2:135m", "options": {"temperature": 0, "num_predict": 8}}


async def test_root_and_version(client):
    r = await client.get("/")
    assert r.status_code == 200 and r.text == "Ollama is running"
    assert "version" in (await client.get("/api/version")).json()


async def test_generate_stream_records(client):
    async with client.stream("POST", "/api/generate", json={**GEN, "prompt": "Hi"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(x) async for x in r.aiter_lines() if x]
    *pieces, last = lines
    assert pieces and all(p["done"] is False and "response" in p for p in pieces)
    assert last["done"] is True and last["done_reason"] == "length"
    assert last["eval_count"] == 8 and last["prompt_eval_count"] > 0
    for k in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert isinstance(last[k], int) and last[k] > 0
    assert isinstance(last["context"], list) and len(last["context"]) > 8


async def test_generate_not_streamed_matches_stream(client):
    r = await client.post("/api/generate", json={**GEN, "prompt": "Hi", "stream": False})
    body = r.json()
    async with client.stream("POST", "/api/generate", json={**GEN, "prompt": "Hi"}) as s:
        text = "".join([json.loads(x)["response"] async for x in s.aiter_lines() if x])
    assert r.status_code == 200 and body["done"] is True and body["response"] == text


async def test_chat_shapes(client):
    body = {**GEN, "messages": [{"role": "user", "content": "Say hello"}], "stream": False}
    r = await client.post("/api/chat", json=body)
    msg = r.json()["message"]
    assert r.status_code == 200 and msg["role"] == "assistant" and msg["content"]


async def test_errors(client):
    r = await client.post("/api/generate", json={"model": "nonesuch", "prompt": "x"})
    assert r.status_code == 404 and r.json() == {
        "error": 'model "nonesuch" not found, try pulling it first'}
    r = await client.post("/api/generate", json={"model": "smollm2:135m", "prompt": 3})
    assert r.status_code == 400 and "$.prompt" in r.json()["error"]
    r = await client.post("/api/generate", json={**GEN, "prompt": "x",
                                                "options": {"top_k": "many"}})
    assert r.status_code == 400 and "top_k" in r.json()["error"]
    r = await client.post("/api/generate", content=b"")
    assert r.status_code == 400 and r.json()["error"] == "missing request body"
    r = await client.post("/api/generate", content=b"{not json")
    assert r.status_code == 400
    r = await client.post("/api/generate", json={**GEN, "prompt": "x", "raw": True,
                                                "system": "s"})
    assert r.status_code == 400
    r = await client.post("/api/generate", json={**GEN, "prompt": "x", "images": ["aGk="]})
    assert r.status_code == 400 and "images" in r.json()["error"]
    r = await client.post("/api/generate", json={**GEN, "prompt": "x", "format": "yaml"})
    assert r.status_code == 400 and "format" in r.json()["error"]


async def test_unknown_fields_are_ignored(client):
    r = await client.post("/api/generate", json={**GEN, "prompt": "Hi", "stream": False,
                                                "brand_new_field": {"x": 1}})
    assert r.status_code == 200


async def test_load_and_unload(client):
    r = await client.post("/api/generate", json={"model": "smollm2:135m"})
    assert r.json()["done_reason"] == "load"
    assert [m["name"] for m in (await client.get("/api/ps")).json()["models"]] == ["smollm2:135m"]
    r = await client.post("/api/generate", json={"model": "smollm2:135m", "keep_alive": 0})
    assert r.json()["done_reason"] == "unload"
    assert (await client.get("/api/ps")).json()["models"] == []


async def test_keep_alive_zero_unloads_after_request(client):
    r = await client.post("/api/generate", json={**GEN, "prompt": "Hi", "stream": False,
                                                "keep_alive": 0})
    assert r.status_code == 200
    assert (await client.get("/api/ps")).json()["models"] == []


async def test_ps_fields(client):
    await client.post("/api/generate", json={"model": "smollm2:135m", "keep_alive": "10m"})
    (m,) = (await client.get("/api/ps")).json()["models"]
    assert m["size"] > 50_000_000 and m["size_vram"] == 0 and m["context_length"] == 2048
    assert m["expires_at"].endswith("Z") and m["details"]["quantization_level"] == "Q4_1"


async def test_format_json_gives_json(client):
    body = {"model": "smollm2:135m", "stream": False, "format": "json",
            "prompt": "Describe a cat as JSON with keys name and age.",
            "options": {"temperature": 0, "num_predict": 200}}
    r = await client.post("/api/generate", json=body)
    assert isinstance(json.loads(r.json()["response"]), dict)


async def test_embed_and_legacy_embeddings(client):
    r = await client.post("/api/embed", json={"model": "smollm2:135m", "input": ["a", "b"]})
    body = r.json()
    assert len(body["embeddings"]) == 2 and body["prompt_eval_count"] >= 2
    assert abs(sum(x * x for x in body["embeddings"][0]) - 1) < 1e-6
    r = await client.post("/api/embed", json={"model": "smollm2:135m", "input": "a",
                                             "dimensions": 16})
    (vec,) = r.json()["embeddings"]
    assert len(vec) == 16 and abs(sum(x * x for x in vec) - 1) < 1e-6
    r = await client.post("/api/embeddings", json={"model": "smollm2:135m", "prompt": "a"})
    legacy = r.json()["embedding"]
    assert abs(sum(x * x for x in legacy) - 1) > 1e-3  # not normalized, as Ollama


async def test_tags_and_show(client):
    await client.post("/api/generate", json={"model": "smollm2:135m"})
    names = [m["name"] for m in (await client.get("/api/tags")).json()["models"]]
    assert "smollm2:135m" in names
    r = await client.post("/api/show", json={"model": "smollm2:135m"})
    body = r.json()
    assert body["details"]["quantization_level"] == "Q4_1"
    assert body["model_info"]["general.architecture"] == "llama"
    assert "im_start" in body["template"] and "completion" in body["capabilities"]


async def test_blobs(client):
    import hashlib

    data = b"not really a model, just bytes " + os.urandom(8)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert (await client.head(f"/api/blobs/{digest}")).status_code == 404
    assert (await client.post(f"/api/blobs/{digest}", content=data)).status_code == 201
    assert (await client.head(f"/api/blobs/{digest}")).status_code == 200
    assert (await client.post(f"/api/blobs/{digest}", content=data)).status_code == 200
    wrong = "sha256:" + "0" * 64
    r = await client.post(f"/api/blobs/{wrong}", content=data)
    assert r.status_code == 400 and "digest" in r.json()["error"]
    assert (await client.head(f"/api/blobs/{wrong}")).status_code == 404
    for bad in ("sha256:../../etc/passwd", "md5:abc", "sha256:" + "g" * 64):
        assert (await client.head(f"/api/blobs/{bad}")).status_code in (400, 404)


async def test_pull_progress_records(client):
    async with client.stream("POST", "/api/pull", json={"model": "gemma3:270m"}) as r:
        records = [json.loads(x) async for x in r.aiter_lines() if x]
        await r.aclose()
    assert r.status_code == 200
    assert records[0]["status"] == "pulling manifest" and records[-1]["status"] == "success"
    # a registry that is not there (a closed loopback port) is a clear error, not a hang
    dead = f"127.0.0.1:{free_port()}/library/nonesuch:latest"
    r = await client.post("/api/pull", json={"model": dead, "insecure": True, "stream": False})
    assert r.status_code >= 400 and "error" in r.json()


async def test_null_options_are_unset(client):
    """What LangChain's OllamaEmbeddings sends: 200, not a 400."""
    body = {"model": "smollm2:135m", "input": ["hello"],
            "options": {"num_ctx": None, "num_gpu": None, "num_thread": None, "mirostat": None,
                        "temperature": None, "stop": None, "top_k": None}}
    r = await client.post("/api/embed", json=body)
    assert r.status_code == 200, r.text
    assert len(r.json()["embeddings"][0]) > 0
