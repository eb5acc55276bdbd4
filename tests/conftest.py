"""Shared fixtures: the two real test models, loaded once, and llama.cpp's own llama-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from llmrt.runtime import bundled, native
from llmrt.runtime.llm import LLM

MODELS = ["smollm2:135m", "gemma3:270m"]

#: Mesa's lavapipe (Debian's mesa-vulkan-drivers): the Vulkan device the vulkan tests run on
LAVAPIPE = any(Path("/usr/share/vulkan/icd.d").glob("lvp_icd*.json"))


def require_system(ok: bool, what: str, install: str) -> None:
    """Tests that need a system package skip, naming the package, when it is absent; under CI
    (``CI`` set), whose .ci/run installs them, a missing one fails instead of hiding."""
    if ok:
        return
    msg = f"{what}: apt-get install {install} (.ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)
_STORE = tempfile.mkdtemp(prefix="llmrt-test-store-")


def pytest_configure(config: pytest.Config) -> None:
    """Every test (and every server it starts) uses a fresh model store, never the user's."""
    os.environ["LLMRT_MODELS"] = _STORE


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    return bundled.ensure("smollm2:135m")


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    return bundled.ensure("gemma3:270m")


_llms: dict[str, LLM] = {}


def get_llm(name: str) -> LLM:
    if name not in _llms:
        _llms[name] = LLM(bundled.ensure(name), num_ctx=2048, num_thread=2)
    return _llms[name]


@pytest.fixture(scope="session")
def smollm2() -> Iterator[LLM]:
    yield get_llm("smollm2:135m")


@pytest.fixture(scope="session")
def gemma() -> Iterator[LLM]:
    yield get_llm("gemma3:270m")


@pytest.fixture(scope="session", params=MODELS)
def any_llm(request: pytest.FixtureRequest) -> LLM:
    return get_llm(request.param)


def die_with_parent() -> None:
    """preexec_fn for test servers: SIGTERM them if the test process dies (no orphans)."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited after ``timeout`` seconds; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama.cpp's own llama-server from the same build, on a free loopback port."""

    def __init__(self, model: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [str(native.tool("llama-server")), "-m", str(model), "--host", "127.0.0.1",
               "--port", str(self.port), "-t", "2", "-c", "2048", "-np", "1", "--no-webui",
               *args]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - a pipe left unread would stall it
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env={**os.environ, "LLAMA_ARG_HOST": "127.0.0.1"},
                                     preexec_fn=die_with_parent)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                err = self.log.read().decode()[-2000:]
                raise RuntimeError(f"llama-server exited: {err}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.close()
        raise RuntimeError("llama-server did not become healthy in 120 s")

    def post(self, path: str, body: dict) -> dict:
        r = httpx.post(self.url + path, json=body, timeout=120)
        r.raise_for_status()
        return r.json()

    def close(self) -> None:
        stop_process(self.proc)
        self.log.close()


_servers: dict[tuple[str, ...], LlamaServer] = {}


@pytest.fixture(scope="session")
def llama_server() -> Iterator:
    def get(name: str, *args: str) -> LlamaServer:
        key = (name, *args)
        if key not in _servers:
            _servers[key] = LlamaServer(bundled.ensure(name), *args)
        return _servers[key]

    yield get
    for s in _servers.values():
        s.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for llm in _llms.values():
        llm.close()
    _llms.clear()
    shutil.rmtree(_STORE, ignore_errors=True)
