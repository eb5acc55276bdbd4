"""The real `ollama` and `openai` client packages, unmodified, against a real `llmrt serve`."""

from __future__ import annotations

from collections.abc import Iterator

import ollama
import openai
import pytest

OPTS = {"temperature": 0, "num_predict": 12}


@pytest.fixture(scope="module")
def oc(server) -> Iterator[ollama.Client]:
    client = ollama.Client(host=server.url)
    yield client
    client._client.close()  # the package offers no public close


@pytest.fixture(scope="module")
def ai(server) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0) as c:
        yield c


def test_ollama_generate(oc):
    r = oc.generate(model="smollm2:135m", prompt="Why is the sky blue?", options=OPTS)
    assert r.done and r.done_reason == "length" and r.eval_count == 12 and r.response
    parts = list(oc.generate(model="smollm2:135m", prompt="Why is the sky blue?",
                             options=OPTS, stream=True))
    assert "".join(p.response for p in parts) == r.response
    assert parts[-1].done and not parts[0].done


def test_ollama_chat(oc):
    msgs = [{"role": "user", "content": "Name a color."}]
    r = oc.chat(model="gemma3:270m", messages=msgs, options=OPTS)
    assert r.message.role == "assistant" and r.message.content
    parts = list(oc.chat(model="gemma3:270m", messages=msgs, options=OPTS, stream=True))
    assert "".join(p.message.content for p in parts) == r.message.content


def test_ollama_embed_list_show_ps(oc):
    e = oc.embed(model="smollm2:135m", input=["hello", "world"])
    assert len(e.embeddings) == 2 and len(e.embeddings[0]) == 576
    names = [m.model for m in oc.list().models]
    assert "smollm2:135m" in names
    s = oc.show("smollm2:135m")
    assert s.details.quantization_level == "Q4_1" and s.modelinfo["general.architecture"]
    loaded = [m.model for m in oc.ps().models]
    assert "smollm2:135m" in loaded


def test_ollama_errors_are_raised(oc):
    with pytest.raises(ollama.ResponseError) as err:
        oc.generate(model="nonesuch:1b", prompt="x")
    assert err.value.status_code == 404


def test_openai_chat(ai):
    msgs = [{"role": "user", "content": "Say hi."}]
    r = ai.chat.completions.create(model="smollm2:135m", messages=msgs, max_tokens=10,
                                   temperature=0)
    assert r.choices[0].message.content and r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 10
    chunks = list(ai.chat.completions.create(model="smollm2:135m", messages=msgs,
                                             max_tokens=10, temperature=0, stream=True,
                                             stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == r.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == 10 and not chunks[-1].choices


def test_openai_completions_embeddings_models(ai):
    c = ai.completions.create(model="smollm2:135m", prompt="Once upon a time", max_tokens=8,
                              temperature=0)
    assert c.choices[0].text and c.usage.completion_tokens == 8
    e = ai.embeddings.create(model="smollm2:135m", input=["a", "b"])
    assert len(e.data) == 2 and len(e.data[0].embedding) == 576
    ids = [m.id for m in ai.models.list().data]
    assert "smollm2:135m" in ids
    assert ai.models.retrieve("smollm2:135m").id == "smollm2:135m"
    with pytest.raises(openai.NotFoundError):
        ai.chat.completions.create(model="nonesuch", messages=[{"role": "user", "content": "x"}])


def test_ollama_model_management(oc):
    for _ in oc.pull("smollm2:135m", stream=True):  # a bundled default: no registry needed
        pass
    oc.copy("smollm2:135m", "copied-model:v1")
    names = {m.model for m in oc.list().models}
    assert {"smollm2:135m", "copied-model:v1"} <= names
    oc.create(model="pirate-test", from_="smollm2:135m", system="You are a pirate.",
              parameters={"temperature": 0})
    shown = oc.show("pirate-test")
    assert "You are a pirate." in shown.modelfile and "temperature" in shown.parameters
    r = oc.chat(model="pirate-test", messages=[{"role": "user", "content": "Hi"}],
                options={"num_predict": 4})
    assert r.message.content
    oc.delete("copied-model:v1")
    oc.delete("pirate-test")
    assert not {"copied-model:v1", "pirate-test:latest"} & {m.model for m in oc.list().models}
    with pytest.raises(ollama.ResponseError) as err:
        oc.delete("pirate-test")
    assert err.value.status_code == 404
