"""Without the compiled module: ``import llmrt`` and the server's modules still import, and
``LLMRT_ENGINE=subprocess llmrt serve`` serves /api/generate and /api/chat from a llama-server
child (tokenization and all from llama-server, nothing from the binding).

The extension is made unimportable the way a broken build is: a ``sitecustomize`` on
PYTHONPATH makes importing ``llmrt.runtime._llama`` raise ImportError, in the server and in
every Python child it starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from llmrt.runtime import native

from .conftest import Server

BLOCKER = '''
import importlib.abc
import sys


class _NoExtension(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "llmrt.runtime._llama":
            raise ImportError("llmrt.runtime._llama is blocked by this test's sitecustomize")
        return None


sys.meta_path.insert(0, _NoExtension())
'''


@pytest.fixture(scope="module")
def no_extension(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for processes in which the compiled module cannot be imported."""
    d = tmp_path_factory.mktemp("no-extension")
    (d / "sitecustomize.py").write_text(BLOCKER)
    return {"PYTHONPATH": os.pathsep.join([str(d), *filter(None, [os.environ.get("PYTHONPATH")])])}


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, cwd=Path.home())


def test_the_blocker_really_blocks(no_extension: dict[str, str]):
    out = python("import llmrt.runtime._bindings._lib", no_extension)
    assert out.returncode != 0
    assert "NativeBuildError: llmrt's compiled module is missing or broken" in out.stderr


def test_the_package_and_the_server_import_without_it(no_extension: dict[str, str]):
    out = python("import sys, llmrt, llmrt.runtime.scheduler, llmrt.runtime.loader, "
                 "llmrt.api.app, llmrt.cli\n"
                 "assert 'llmrt.runtime._llama' not in sys.modules\n"
                 "print(llmrt.__version__, llmrt.ModelNotFound.__name__)", no_extension)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.1.0", "ModelNotFound"]
    lazy = python("import llmrt\nllmrt.load", no_extension)  # the library needs it: says so
    assert "NativeBuildError" in lazy.stderr


@pytest.fixture(scope="module")
def server(no_extension: dict[str, str]):
    # the CPU variant is chosen by running it through the binding and the verdict is cached
    # per machine and build (the first run after install does this); the server reads it
    native.ensure_backends()
    s = Server(LLMRT_ENGINE="subprocess", **no_extension)
    yield s
    s.close()


def test_subprocess_serve_generates_and_chats(server: Server):
    options = {"num_predict": 4, "temperature": 0}
    r = httpx.post(server.url + "/api/generate", timeout=300, json={
        "model": "smollm2:135m", "prompt": "Why is the sky blue?", "stream": False,
        "options": options})
    assert r.status_code == 200, r.text
    gen = r.json()
    assert gen["done"] and gen["eval_count"] == 4 and gen["response"].strip()
    assert gen["prompt_eval_count"] > 5  # the chat template was applied by llmrt

    r = httpx.post(server.url + "/api/chat", timeout=300, json={
        "model": "smollm2:135m", "messages": [{"role": "user", "content": "Say hello."}],
        "stream": False, "options": options})
    assert r.status_code == 200, r.text
    chat = r.json()
    assert chat["done"] and chat["eval_count"] == 4
    assert chat["message"]["role"] == "assistant" and chat["message"]["content"].strip()

    [ps] = httpx.get(server.url + "/api/ps", timeout=30).json()["models"]
    assert ps["name"] == "smollm2:135m" and ps["size_vram"] == 0 and ps["size"] > 50_000_000


def test_streaming_and_a_bad_request_without_it(server: Server):
    with httpx.stream("POST", server.url + "/api/generate", timeout=300, json={
            "model": "smollm2:135m", "prompt": "Hi", "options": {"num_predict": 2}}) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line]
    assert len(lines) >= 2 and '"done":true' in lines[-1].replace(" ", "")
    r = httpx.post(server.url + "/api/generate", timeout=60, json={
        "model": "smollm2:135m", "prompt": "Hi", "options": {"temperature": "hot"}})
    assert r.status_code == 400 and "temperature" in r.json()["error"]
