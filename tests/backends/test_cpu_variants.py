"""The CPU variant is chosen by running it: crashing variants are rejected."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from llmrt.backends import cpu_variants
from llmrt.runtime import native

CRASHING_BACKEND = r"""
/* A ggml backend library that passes ggml's load checks, then dies on an illegal instruction
   the moment the backend is initialised, like the AMX variant does on its first matmul. */
#include <stddef.h>
int ggml_backend_score(void) { return 1000; }
void * ggml_backend_init(void) { __builtin_trap(); return NULL; }
"""


@pytest.fixture()
def variant_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("LLMRT_CACHE_DIR", str(tmp_path / "cache"))
    d = tmp_path / "native"
    d.mkdir()
    chosen = native.ensure_backends()
    shutil.copy(native.native_dir() / f"libggml-cpu-{chosen}.so", d / "libggml-cpu-x64.so")
    src = tmp_path / "crash.c"
    src.write_text(CRASHING_BACKEND)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(d / "libggml-cpu-sapphirerapids.so"),
                    str(src)], check=True)
    return d


def test_crashing_variant_is_rejected_and_next_one_chosen(variant_dir: Path):
    chosen, verdicts = cpu_variants.choose(variant_dir)
    assert [v.variant for v in verdicts] == ["sapphirerapids", "x64"]
    assert not verdicts[0].ok and "SIGILL" in verdicts[0].reason
    assert chosen is not None and chosen.variant == "x64" and chosen.ok
    # cached: the second call probes nothing and agrees
    again, cached = cpu_variants.choose(variant_dir)
    assert again == chosen and cached == verdicts


def test_real_choice_generates(smollm2):
    """The variant chosen on this machine ran the probe and now runs the model."""
    assert native.cpu_variant() is not None
    assert smollm2.generate("Hello", num_predict=3, temperature=0).eval_count == 3


def test_forced_variant(variant_dir: Path):
    chosen, _ = cpu_variants.choose(variant_dir, forced="x64")
    assert chosen.variant == "x64" and "forced" in chosen.reason
    none, verdicts = cpu_variants.choose(variant_dir, forced="nonesuch")
    assert none is None and "no such" in verdicts[0].reason
