"""Context shift, as Ollama's ``shift`` (default true) and llama-server's --context-shift: a full
context keeps its first ``num_keep`` tokens (and the BOS), drops half of the rest and goes on;
``shift=False`` stops with done_reason "length". Never silent: the result counts what was
dropped. Compared with llama-server on the same build."""

from __future__ import annotations

from pathlib import Path

from llmrt.runtime.llm import LLM

PROMPT = "List the numbers from 1 to 500: 1, 2, 3,"


def test_shift_continues_exactly_as_llama_server(smollm2_path: Path, llama_server):
    with LLM(smollm2_path, num_ctx=128, num_thread=2) as llm:
        shifted = llm.generate(PROMPT, num_predict=200, temperature=0)
        stopped = llm.generate(PROMPT, num_predict=200, temperature=0, shift=False)
    assert shifted.eval_count == 200 and shifted.shifted > 0
    assert stopped.done_reason == "length" and stopped.shifted == 0
    assert stopped.eval_count < 128 and shifted.text.startswith(stopped.text)
    theirs = llama_server("smollm2:135m", "-c", "128", "--context-shift", "--keep", "4").post(
        "/completion", {"prompt": PROMPT, "n_predict": 200, "temperature": 0, "n_keep": 4})
    assert theirs["tokens_predicted"] == 200
    assert shifted.text == theirs["content"]

