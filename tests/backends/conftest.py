"""Fixtures of the backend tests: a native directory whose best CPU variant crashes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
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
