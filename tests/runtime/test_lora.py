"""LoRA adapters: a small GGUF LoRA the test writes itself (random low-rank deltas on SmolLM2's
attn_q/attn_v, with the ``gguf`` package), applied at load on both engines; greedy output equals
llama.cpp's llama-server ``--lora`` with the same file and differs from the base model."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from llmrt.runtime.adapters import AdapterMismatch, check_lora
from llmrt.runtime.gguf import read_header
from llmrt.runtime.llm import LLM

PROMPT = "The capital of France is"
RANK = 8


def write_lora(base: Path, out: Path, *, arch: str | None = None, rank: int = RANK,
               shape_off: int = 0, seed: int = 0) -> Path:
    """A LoRA for ``base``: ``lora_a`` (ne [n_in, rank]) and ``lora_b`` (ne [rank, n_out]) for
    every attn_q and attn_v weight. ``shape_off`` makes lora_b's output size wrong."""
    header = read_header(base)
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(out), arch or header.architecture)
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", float(rank))
    for t in header.tensors:
        if t.name.endswith(("attn_q.weight", "attn_v.weight")):
            n_in, n_out = t.dims
            w.add_tensor(t.name + ".lora_a",
                         rng.normal(0, 0.2, (rank, n_in)).astype(np.float32))
            w.add_tensor(t.name + ".lora_b",
                         rng.normal(0, 0.2, (n_out + shape_off, rank)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return out


@pytest.fixture(scope="module")
def lora(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lora(smollm2_path, tmp_path_factory.mktemp("lora") / "smollm2-lora.gguf")


def test_the_written_file_is_a_lora_for_the_base(lora: Path, smollm2_path: Path):
    assert check_lora(lora, smollm2_path) == 60  # 30 layers x (attn_q, attn_v)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_greedy_output_equals_llama_server_with_the_lora(lora: Path, smollm2_path: Path,
                                                         smollm2: LLM, llama_server, scale):
    body = {"prompt": PROMPT, "n_predict": 12, "temperature": 0}
    with LLM(smollm2_path, num_ctx=2048, num_thread=2, adapters=[(str(lora), scale)]) as llm:
        ours = llm.generate(PROMPT, num_predict=12, temperature=0)
    theirs = llama_server("smollm2:135m", "--lora-scaled", f"{lora}:{scale}").post(
        "/completion", body)
    assert ours.text == theirs["content"]
    # the base model, loaded at the same time, is unaffected, and differs from the adapted one
    base = smollm2.generate(PROMPT, num_predict=12, temperature=0)
    assert base.text == llama_server("smollm2:135m").post("/completion", body)["content"]
    assert base.text != ours.text


def test_subprocess_engine_applies_it_the_same_way(lora: Path, smollm2_path: Path):
    import anyio
    from llmrt.runtime.engine.base import EngineRequest, Final, Piece
    from llmrt.runtime.engine.subprocess import SubprocessEngine
    from llmrt.runtime.options import Options

    async def run() -> str:
        engine = SubprocessEngine(smollm2_path, num_ctx=2048, num_parallel=1, num_thread=2,
                                  adapters=[(str(lora), 1.0)])
        try:
            tokens = await engine.tokenize(PROMPT)
            opts = Options(temperature=0, num_predict=12).resolved()
            text = ""
            async for item in engine.generate(EngineRequest(prompt=tokens, options=opts)):
                if isinstance(item, Piece):
                    text += item.text
                assert not isinstance(item, Final) or item.eval_count == 12
            return text
        finally:
            await engine.close()

    with LLM(smollm2_path, num_ctx=2048, num_thread=2, adapters=[(str(lora), 1.0)]) as llm:
        ours = llm.generate(PROMPT, num_predict=12, temperature=0).text
    assert anyio.run(run) == ours


def test_a_lora_for_other_shapes_is_a_clear_error(smollm2_path: Path, tmp_path: Path):
    bad = write_lora(smollm2_path, tmp_path / "bad.gguf", shape_off=64)
    with pytest.raises(AdapterMismatch, match=r"attn_q.weight has shapes .* do not fit"):
        check_lora(bad, smollm2_path)
    with pytest.raises(AdapterMismatch, match="do not fit"):
        LLM(smollm2_path, num_ctx=512, num_thread=2, adapters=[(str(bad), 1.0)])


def test_a_lora_for_another_architecture_is_a_clear_error(smollm2_path: Path, gemma_path: Path,
                                                         tmp_path: Path):
    other = write_lora(smollm2_path, tmp_path / "qwen.gguf", arch="qwen2")
    with pytest.raises(AdapterMismatch, match="for 'qwen2' models; the base model is 'llama'"):
        check_lora(other, smollm2_path)
    for_smol = write_lora(smollm2_path, tmp_path / "smol.gguf")
    with pytest.raises(AdapterMismatch, match="for 'llama' models; the base model is 'gemma3'"):
        check_lora(for_smol, gemma_path)
    with pytest.raises(AdapterMismatch, match="is not a LoRA adapter"):
        check_lora(smollm2_path, smollm2_path)
