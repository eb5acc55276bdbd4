from __future__ import annotations

import math

from llmrt.runtime.llm import LLM


def _dot(a: list[float], b: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def test_embeddings_shape_norm_and_similarity(any_llm: LLM):
    v = any_llm.embed(["The cat sat on the mat.", "A cat was sitting on a mat.",
                       "Quarterly revenue grew by eight percent."])
    assert len(v) == 3 and all(len(x) == any_llm.model.info.n_embd for x in v)
    for x in v:
        assert abs(_dot(x, x) - 1.0) < 1e-6
    assert _dot(v[0], v[1]) > _dot(v[0], v[2])


def test_unnormalized_embedding_has_its_own_norm(smollm2: LLM):
    raw = smollm2.embed("hello world", normalized=False)[0]
    unit = smollm2.embed("hello world")[0]
    norm = math.sqrt(_dot(raw, raw))
    assert abs(norm - 1.0) > 1e-3
    assert all(abs(a / norm - b) < 1e-5 for a, b in zip(raw, unit, strict=True))
