"""Every C handle has one owner: idempotent close, use-after-close errors, children closed first."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmrt.runtime.batch import Batch
from llmrt.runtime.context import Context
from llmrt.runtime.model import Model
from llmrt.runtime.options import Options
from llmrt.runtime.sampling import SamplerChain


def test_close_is_idempotent_and_closes_dependents(smollm2_path: Path):
    model = Model(smollm2_path)
    ctx = Context(model, n_ctx=256, n_threads=1)
    chain = SamplerChain(model, Options().resolved())
    model.close()
    assert ctx.closed and chain.closed and model.closed
    model.close()
    ctx.close()
    with pytest.raises(ValueError, match="closed"):
        ctx.seq_pos_max(0)
    with pytest.raises(ValueError, match="closed"):
        model.tokenizer.tokenize("hi")


def test_context_manager_and_batch_capacity():
    with Batch(2) as b:
        b.add(1, 0)
        b.add(2, 1)
        with pytest.raises(OverflowError):
            b.add(3, 2)
    assert b.closed


def test_invalid_sampler_options_raise(smollm2_path: Path):
    from llmrt.runtime.errors import SamplerError

    with Model(smollm2_path, vocab_only=True) as model:
        with pytest.raises(SamplerError):
            SamplerChain(model, Options(temperature=-1).resolved())
        with pytest.raises(SamplerError, match="grammar"):
            SamplerChain(model, Options().resolved(), grammar="root ::= (")


def test_vocab_only_model_info_is_safe(smollm2_path: Path):
    with Model(smollm2_path, vocab_only=True) as m:
        assert m.info.quantization == "Q4_1" and m.info.n_layer == 0
