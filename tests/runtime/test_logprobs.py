"""Logprobs: log-softmax of the model's logits at each generated position, checked against
llama.cpp's own llama-server (``n_probs``) on the same prompt at temperature 0."""

from __future__ import annotations

import math

import pytest
from llmrt.runtime import bundled
from llmrt.runtime.llm import LLM

PROMPT = "The capital of France is"
K = 5


@pytest.mark.parametrize("model", ["smollm2:135m", "gemma3:270m"])
def test_logprobs_match_llama_server(model, llama_server):
    # a fresh model: a shared one may reuse a cached prefix, and evaluating the prompt in two
    # parts moves Gemma's logprobs by ~0.1 (the same happens in llama-server)
    with LLM(bundled.ensure(model), num_ctx=2048, num_thread=2) as llm:
        ours = llm.generate(PROMPT, num_predict=6, temperature=0, logprobs=K)
    # the engine keeps a full-size sliding-window cache (Gemma 3's SWA layers), as prefix reuse
    # across turns needs; llama-server's smaller default one changes Gemma's logits by ~0.1
    theirs = llama_server(model, "--swa-full").post("/completion", {
        "prompt": PROMPT, "n_predict": 6, "temperature": 0, "n_probs": K,
    })["completion_probabilities"]
    assert [t.token for t in ours.logprobs] == [t["id"] for t in theirs] == ours.tokens
    for mine, ref in zip(ours.logprobs, theirs, strict=True):
        assert mine.piece == bytes(ref["bytes"])
        assert abs(mine.logprob - ref["logprob"]) <= 1e-3
        assert [t for t, _, _ in mine.top] == [t["id"] for t in ref["top_logprobs"]]
        for (_, piece, lp), r in zip(mine.top, ref["top_logprobs"], strict=True):
            assert piece == bytes(r["bytes"]) and abs(lp - r["logprob"]) <= 1e-3


def test_logprobs_are_a_distribution_and_greedy_takes_the_best(smollm2):
    r = smollm2.generate("1, 2, 3,", num_predict=5, temperature=0, logprobs=20)
    for t in r.logprobs:
        lps = [lp for _, _, lp in t.top]
        assert lps == sorted(lps, reverse=True) and all(lp <= 0 for lp in lps)
        assert t.top[0][0] == t.token and t.logprob == lps[0]  # greedy: the most likely
        assert sum(math.exp(lp) for lp in lps) <= 1.0 + 1e-5


def test_sampled_tokens_get_their_own_logprob(smollm2):
    """At temperature 1 the sampled token need not be the most likely one: its own logprob is
    reported, and the model's distribution does not depend on the sampler."""
    r = smollm2.generate("Once upon a time", num_predict=12, temperature=1.5, seed=7,
                         logprobs=0)
    assert len(r.logprobs) == len(r.tokens) and all(t.top == [] for t in r.logprobs)
    assert [t.token for t in r.logprobs] == r.tokens
    assert all(t.logprob <= 0 for t in r.logprobs)


def test_no_logprobs_unless_asked(smollm2):
    assert smollm2.generate(PROMPT, num_predict=3, temperature=0).logprobs == []
