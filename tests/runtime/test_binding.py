"""The compiled binding: API mode, pinned commit, build cache, pinned source verification."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_extension_is_a_compiled_cpython_module():
    import llmrt.runtime._llama as mod

    assert mod.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert type(mod.lib).__name__ == "Lib"  # API mode; ABI-mode dlopen gives a FFILibrary
    assert hasattr(mod.lib, "llama_decode")


def test_embedded_commit_matches_the_pin():
    from llmrt.runtime._bindings._lib import BUILD_COMMIT, EXPECTED_LLAMA_CPP_COMMIT

    pin = tomllib.loads((ROOT / "vendor" / "llama.cpp.toml").read_text())["source"]
    assert BUILD_COMMIT == EXPECTED_LLAMA_CPP_COMMIT == pin["llama_cpp_commit"]


def test_mismatched_build_is_refused():
    from llmrt.runtime._bindings._lib import verify_build
    from llmrt.runtime.errors import NativeBuildError

    with pytest.raises(NativeBuildError, match="rebuild"):
        verify_build("deadbee")


def _fetcher():
    spec = importlib.util.spec_from_file_location("fetch_llama_cpp",
                                                  ROOT / "vendor" / "fetch_llama_cpp.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fetch_llama_cpp_test"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_wrong_sdist_hash_is_a_hard_error(tmp_path, monkeypatch):
    fetch = _fetcher()
    monkeypatch.setenv("LLMRT_CACHE_DIR", str(tmp_path))
    pin = {**fetch.read_pin()}
    bogus = tmp_path / "dl" / f"{pin['package'].replace('-', '_')}-{pin['version']}.tar.gz"
    bogus.parent.mkdir(parents=True)
    bogus.write_bytes(b"not the real sdist")
    with pytest.raises(fetch.FetchError, match="does not match the pin"):
        fetch.fetch_sdist(pin)
    assert not bogus.exists()


def test_build_key_depends_on_source_and_flags():
    # importing build_ffi builds nothing (cffi calls make_ffibuilder)
    spec = importlib.util.spec_from_file_location("build_ffi_keys", ROOT / "build_ffi.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    key = mod.build_key
    flags = mod.CMAKE_FLAGS
    assert key("a", flags) == key("a", list(flags))
    assert key("a", flags) != key("b", flags)
    assert key("a", flags) != key("a", [*flags, "-DGGML_VULKAN=ON"])
    assert not any("march=native" in f or f == "-DGGML_NATIVE=ON" for f in flags)
