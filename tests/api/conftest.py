"""Fixtures: the app in-process (httpx ASGITransport) and a real `llmrt serve` process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from llmrt.api.app import create_app
from llmrt.api.config import ServerConfig
from llmrt.runtime.scheduler import SchedulerConfig

from tests.conftest import die_with_parent, free_port, stop_process


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


ENGINES = ["inprocess", "subprocess"]


def app_config(**sched: object) -> ServerConfig:
    base = {"num_parallel": 2, "context_length": 2048, "keep_alive": 300.0}
    return ServerConfig(scheduler=SchedulerConfig(**{**base, **sched}))  # type: ignore[arg-type]


@pytest.fixture(params=ENGINES)
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process, once per engine: both must behave the same."""
    app = create_app(app_config(engine=request.param))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                     timeout=120) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


class Server:
    """A real `llmrt serve` child process on a free loopback port."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "LLMRT_HOST": f"127.0.0.1:{self.port}",
                    "LLMRT_NUM_PARALLEL": "4", "LLMRT_CONTEXT_LENGTH": "2048", **env}
        # the log goes to a file: an unread pipe would fill up and stall the server
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen([sys.executable, "-m", "llmrt", "serve"], env=full_env,
                                     stdout=subprocess.DEVNULL, stderr=self.log,
                                     preexec_fn=die_with_parent)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(self.log.read().decode()[-3000:])
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("llmrt serve did not start in 60 s")

    def close(self) -> None:
        stop_process(self.proc, timeout=20)
        self.log.close()


@pytest.fixture(scope="session", params=ENGINES)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A real `llmrt serve`, once per engine."""
    s = Server(LLMRT_ENGINE=request.param)
    yield s
    s.close()
