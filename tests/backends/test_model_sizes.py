"""The GGUF header reader agrees with llama.cpp about both test models."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmrt.backends import model_sizes
from llmrt.runtime.gguf import GGUFError


def test_sizes_agree_with_llama_cpp(any_llm):
    sizes = model_sizes.read(any_llm.model.path)
    info = any_llm.model.info
    assert (sizes.n_layer, sizes.n_embd, sizes.n_head, sizes.n_head_kv, sizes.n_ctx_train) == (
        info.n_layer, info.n_embd, info.n_head, info.n_head_kv, info.n_ctx_train)
    assert sizes.n_vocab == any_llm.model.tokenizer.n_vocab
    assert len(sizes.layer_bytes) == info.n_layer and min(sizes.layer_bytes) > 0
    # offsets include alignment padding (< 32 bytes a tensor), so a little above llama.cpp's sum
    assert 0 <= sizes.total_bytes - info.size < 32 * 1024
    assert sizes.input_bytes > 0 and sizes.output_bytes >= sizes.input_bytes  # tied embeddings


def test_head_dims(smollm2_path: Path, gemma_path: Path):
    smollm2 = model_sizes.read(smollm2_path)
    assert (smollm2.head_dim_k, smollm2.head_dim_v) == (64, 64)  # n_embd / n_head
    gemma = model_sizes.read(gemma_path)
    assert (gemma.head_dim_k, gemma.head_dim_v) == (256, 256)  # gemma3.attention.key_length


def test_truncated_header_is_a_format_error(tmp_path: Path, smollm2_path: Path):
    p = tmp_path / "truncated.gguf"
    p.write_bytes(smollm2_path.read_bytes()[:4096])
    with pytest.raises(GGUFError, match="truncated"):
        model_sizes.read(p)
    p.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(GGUFError, match="not a GGUF file"):
        model_sizes.read(p)
