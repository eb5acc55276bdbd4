"""Bad model files give clear Python errors, and the process survives them."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmrt.runtime.errors import ModelLoadError
from llmrt.runtime.model import Model


def test_missing_file(tmp_path: Path):
    with pytest.raises(ModelLoadError, match="not found"):
        Model(tmp_path / "nope.gguf")


def test_not_a_gguf_file(tmp_path: Path):
    p = tmp_path / "model.gguf"
    p.write_bytes(b"PK\x03\x04 this is a zip, not a model" * 10)
    with pytest.raises(ModelLoadError, match="not a GGUF file"):
        Model(p)


def test_truncated_gguf(tmp_path: Path, smollm2_path: Path):
    p = tmp_path / "truncated.gguf"
    with smollm2_path.open("rb") as f:
        p.write_bytes(f.read(3 * 1024 * 1024))  # header and part of the tensors
    with pytest.raises(ModelLoadError, match="could not load"):
        Model(p)
    # still alive and able to load the real thing
    with Model(smollm2_path, vocab_only=True) as m:
        assert m.tokenizer.n_vocab > 1000


def test_directory_is_rejected(tmp_path: Path):
    with pytest.raises(ModelLoadError, match="not a file"):
        Model(tmp_path)
