"""The library API: ``LLM`` (sync) and ``AsyncLLM`` run on the one in-process engine."""

from __future__ import annotations

import asyncio

import pytest
from llmrt.runtime.llm import LLM, AsyncGeneration, AsyncLLM

import llmrt


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_streaming_equals_sync_and_non_streaming(smollm2: LLM, smollm2_path):
    sync = smollm2.generate("The capital of France is", num_predict=12, temperature=0)
    async with await AsyncLLM.load(smollm2_path, num_ctx=2048, num_thread=2) as llm:
        gen = await llm.generate("The capital of France is", stream=True, num_predict=12,
                                 temperature=0)
        assert isinstance(gen, AsyncGeneration)
        pieces = [p async for p in gen]
        assert "".join(pieces) == gen.result.text == sync.text
        assert gen.result.tokens == sync.tokens and gen.result.eval_count == 12
        assert gen.result.context[-12:] == sync.tokens
        whole = await llm.generate("The capital of France is", num_predict=12, temperature=0)
        assert whole.text == sync.text
        # the engine is the server's: its counters moved, its slot is free again
        assert llm.engine.stats()["busy_slots"] == 0 and llm.engine.steps > 0


@pytest.mark.anyio
async def test_cancelling_the_async_consumer_cancels_the_sequence(smollm2_path):
    async with await AsyncLLM.load(smollm2_path, num_ctx=2048, num_thread=2) as llm:
        gen = await llm.generate("1, 2, 3, 4,", stream=True, num_predict=400, temperature=0)
        got: list[str] = []

        async def consume() -> None:
            async for piece in gen:
                got.append(piece)

        task = asyncio.ensure_future(consume())
        while len(got) < 3:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        while llm.engine.stats()["busy_slots"]:
            await asyncio.sleep(0.005)
        assert gen.result.eval_count == 0  # never finished
        again = await llm.generate("Hi", num_predict=2, temperature=0)
        assert again.eval_count == 2


def test_public_names():
    assert llmrt.LLM is LLM and llmrt.AsyncLLM is AsyncLLM
