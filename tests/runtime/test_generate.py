"""Generation on the real models, checked against llama.cpp's own llama-server."""

from __future__ import annotations

import threading
import time

import pytest
from llmrt.runtime.errors import Cancelled, ContextOverflow
from llmrt.runtime.llm import LLM

PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time, in a small"]


@pytest.mark.parametrize("model", ["smollm2:135m", "gemma3:270m"])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_matches_llama_server(model, prompt, llama_server, request):
    from tests.conftest import get_llm

    llm = get_llm(model)
    ours = llm.generate(prompt, num_predict=24, temperature=0)
    theirs = llama_server(model).post("/completion", {
        "prompt": prompt, "n_predict": 24, "temperature": 0, "return_tokens": True,
        "cache_prompt": False, "samplers": ["top_k"], "top_k": 1,
    })
    assert ours.tokens == theirs["tokens"]
    assert ours.text == theirs["content"]


def test_greedy_is_deterministic(any_llm: LLM):
    a = any_llm.generate("List three colors:", num_predict=20, temperature=0)
    b = any_llm.generate("List three colors:", num_predict=20, temperature=0)
    assert a.tokens == b.tokens and a.eval_count == 20


def test_seeds(smollm2: LLM):
    kw = {"num_predict": 24, "temperature": 0.8, "top_k": 0, "top_p": 1.0}
    a = smollm2.generate("Write a story about a cat:", seed=42, **kw)
    b = smollm2.generate("Write a story about a cat:", seed=42, **kw)
    c = smollm2.generate("Write a story about a cat:", seed=7, **kw)
    assert a.text == b.text
    assert a.text != c.text


def test_num_predict_and_counters(smollm2: LLM):
    r = smollm2.generate("Count: 1, 2, 3,", num_predict=5, temperature=0)
    assert r.eval_count == 5 and r.done_reason == "length"
    assert r.prompt_eval_count > 0 and r.prompt_eval_duration > 0 and r.eval_duration > 0
    assert r.total_duration >= r.eval_duration
    assert r.context[-5:] == r.tokens


def test_stop_string_never_emitted(smollm2: LLM):
    free = smollm2.generate("Count: 1, 2, 3,", num_predict=30, temperature=0).text
    assert " 5" in free
    stop = free[free.index(" 5"):][:3]
    pieces = list(smollm2.generate("Count: 1, 2, 3,", stream=True, num_predict=30,
                                   temperature=0, stop=[stop]))
    text = "".join(pieces)
    assert text == free[: free.index(stop)]
    assert stop not in text


def test_stream_equals_final_text(gemma: LLM):
    gen = gemma.generate("Write a haiku about rain.", stream=True, num_predict=30,
                         temperature=0)
    pieces = list(gen)
    assert "".join(pieces) == gen.result.text
    assert all("\ufffd" not in p for p in pieces)


def test_cancel_mid_generation(smollm2: LLM):
    cancel = threading.Event()
    gen = smollm2.generate("Once upon a time", stream=True, num_predict=200,
                           temperature=0, cancel=cancel)
    got = []
    with pytest.raises(Cancelled):
        for piece in gen:
            got.append(piece)
            if len(got) == 3:
                cancel.set()
    assert len(got) == 3
    # the model is still usable, and the cancelled sequence left nothing behind
    after = smollm2.generate("The capital of France is", num_predict=4, temperature=0)
    fresh = smollm2.generate("The capital of France is", num_predict=4, temperature=0)
    assert after.tokens == fresh.tokens


def test_cancel_during_prompt_decode_stops_the_decode(smollm2_path):
    """Cancelling while a long prompt is being decoded stops that llama_decode (llama.cpp's abort
    callback) instead of letting the prefill run to its end. One 2048-token batch: the whole
    prompt is a single decode, so only the abort can end it early."""
    with LLM(smollm2_path, num_ctx=2048, num_batch=2048, num_thread=2) as llm:
        engine = llm.engine
        cancel = threading.Event()

        def cancel_once_decoding() -> None:
            while not engine._decoding:  # the prompt's decode is running
                time.sleep(0.001)
            cancel.set()

        watcher = threading.Thread(target=cancel_once_decoding, daemon=True)
        watcher.start()
        with pytest.raises(Cancelled):
            llm.generate("word " * 1500, num_predict=1, temperature=0, cancel=cancel)
        watcher.join(10)
        while engine.stats()["busy_slots"]:
            time.sleep(0.005)
        stats = engine.stats()
        assert stats["aborted_decodes"] == 1 and stats["steps"] == 0  # no decode completed
        assert llm.generate("Hi", num_predict=2, temperature=0).eval_count == 2


def test_prompt_prefix_is_reused(smollm2: LLM):
    history = [{"role": "user", "content": "Name a fruit."}]
    first = smollm2.chat(history, num_predict=8, temperature=0)
    history += [{"role": "assistant", "content": first.text},
                {"role": "user", "content": "And a vegetable?"}]
    second = smollm2.chat(history, num_predict=8, temperature=0)
    full = len(smollm2.tokenize(smollm2.render(history)))
    assert second.prompt_eval_count < full // 2


def test_prompt_longer_than_context_is_a_clear_error(smollm2: LLM):
    with pytest.raises(ContextOverflow, match="context holds"):
        smollm2.generate("hello " * 3000, num_predict=1)


@pytest.mark.parametrize("system", [False, True])
def test_chat_template_matches_llama_server(any_llm: LLM, llama_server, system: bool):
    messages = [
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Hi, how can I help?"},
        {"role": "user", "content": "What is 2+2?"},
    ]
    if system:
        messages.insert(0, {"role": "system", "content": "Answer briefly."})
    if "SmolLM2" in any_llm.model.path:  # its GGUF carries a jinja template
        server = llama_server("smollm2:135m")
    else:  # this Gemma GGUF carries none: ours must equal llama.cpp's built-in "gemma"
        assert any_llm.model.chat_template is None
        server = llama_server("gemma3:270m", "--chat-template", "gemma", "--no-jinja")
    theirs = server.post("/apply-template", {"messages": messages})["prompt"]
    assert any_llm.render(messages) == theirs
