"""Modelfile ADAPTER, end to end: a model created with a LoRA answers, on both engines, exactly
what llama-server --lora-scaled answers with that file; a LoRA that does not fit is a 400 at
create, not a failure at the first load."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmrt.runtime.adapters import AdapterMismatch
from llmrt.runtime.store.create import create_from_modelfile

import llmrt
from tests.runtime.test_lora import PROMPT, write_lora

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def lora_model(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    d = tmp_path_factory.mktemp("adapter-model")
    lora = write_lora(smollm2_path, d / "smol-lora.gguf")
    for _ in create_from_modelfile("smol-lora:latest", f"FROM smollm2:135m\nADAPTER {lora.name}\n",
                                   base_dir=d):
        pass
    return "smol-lora", lora


async def test_a_created_model_applies_its_adapter(client, lora_model, llama_server):
    name, lora = lora_model
    r = await client.post("/api/generate", json={
        "model": name, "prompt": PROMPT, "raw": True, "stream": False,
        "options": {"temperature": 0, "num_predict": 12}})
    assert r.status_code == 200, r.text
    theirs = llama_server("smollm2:135m", "--lora-scaled", f"{lora}:1.0").post(
        "/completion", {"prompt": PROMPT, "n_predict": 12, "temperature": 0})
    base = llama_server("smollm2:135m").post(
        "/completion", {"prompt": PROMPT, "n_predict": 12, "temperature": 0})
    assert r.json()["response"] == theirs["content"] != base["content"]


def test_the_library_loads_it_by_name_with_its_adapter(lora_model, smollm2_path: Path):
    name, lora = lora_model
    with llmrt.load(name, num_ctx=512, num_thread=2) as by_name, \
            llmrt.load(smollm2_path, num_ctx=512, num_thread=2,
                       adapters=[(str(lora), 1.0)]) as by_hand:
        assert by_name.generate(PROMPT, num_predict=12, temperature=0).text == \
            by_hand.generate(PROMPT, num_predict=12, temperature=0).text


def test_a_lora_that_does_not_fit_is_refused_at_create(smollm2_path: Path, tmp_path: Path):
    bad = write_lora(smollm2_path, tmp_path / "bad.gguf", shape_off=64)
    with pytest.raises(AdapterMismatch, match="do not fit the base"):
        modelfile = f"FROM smollm2:135m\nADAPTER {bad.name}\n"
        for _ in create_from_modelfile("bad-lora:latest", modelfile, base_dir=tmp_path):
            pass


async def test_create_over_http_refuses_it_with_a_400(client, smollm2_path: Path, tmp_path: Path):
    import hashlib

    bad = write_lora(smollm2_path, tmp_path / "bad.gguf", shape_off=64)
    data = bad.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    # 201, or 200 when an earlier test stored the same bytes
    assert (await client.post(f"/api/blobs/{digest}", content=data)).status_code in (200, 201)
    r = await client.post("/api/create", json={"model": "bad-lora2", "from": "smollm2:135m",
                                               "adapters": {"bad.gguf": digest},
                                               "stream": False})
    assert r.status_code == 400, r.text
    assert "do not fit the base" in r.json()["error"]
