"""Model loading (the loader's open_model) goes through the backend manager's choice."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from llmrt.runtime.errors import BackendError
from llmrt.runtime.loader import ModelSpec, open_model, start_engine
from llmrt.runtime.model import Model

from .test_doctor import VULKAN_BUILT, VULKAN_WHY_NOT


def test_the_plan_is_explained_in_the_log(smollm2_path: Path, caplog):
    with caplog.at_level(logging.INFO, logger="llmrt.backends"), open_model(smollm2_path) as model:
        assert model.placement is not None
    [text] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("placement")]
    assert "backend cpu: no other backend is available and fits" in text
    assert "cpu: n_gpu_layers=0 of 31 (num_ctx 4096 x parallel 1)" in text
    assert VULKAN_WHY_NOT in text


def test_explicit_backend_that_cannot_load_fails_loudly(smollm2_path: Path, monkeypatch):
    if not VULKAN_BUILT:  # built, it runs on lavapipe: tests/backends/test_vulkan_run.py
        with pytest.raises(BackendError, match="'vulkan' \\(asked for\\) cannot be used: "
                                               "libggml-vulkan.so was not built"):
            open_model(smollm2_path, backend="vulkan")
    monkeypatch.setenv("LLMRT_BACKEND", "nonesuch")
    with pytest.raises(BackendError, match="no backend named 'nonesuch'"):
        open_model(smollm2_path)
    monkeypatch.setenv("LLMRT_BACKEND", "cpu")
    with open_model(smollm2_path) as model:
        assert model.placement is not None
        assert model.placement.selection.reason == "LLMRT_BACKEND=cpu"


def test_a_model_opened_without_the_loader_has_no_placement(smollm2_path: Path):
    """Model is a plain owner: it loads where it is told (the host unless told otherwise)."""
    with Model(smollm2_path, vocab_only=True) as model:
        assert model.placement is None and model.tokenizer.n_vocab > 1000
        assert model.devices == () and model.offloaded_bytes == 0


def test_the_llama_server_child_refuses_a_backend_it_would_not_run(smollm2_path: Path):
    """The subprocess engine runs models on the CPU: an explicit other backend is an error,
    not a silent CPU run (and no child is started)."""
    with pytest.raises(BackendError, match="'vulkan' runs only in the in-process engine"):
        start_engine(ModelSpec("smollm2", smollm2_path), kind="subprocess", num_ctx=256,
                     num_parallel=1, backend="vulkan")
