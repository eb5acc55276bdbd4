"""Fixtures for the store tests: stores holding SmolLM2, a real docker-registry, test registries.

Blobs never change once written (they are replaced by rename, never rewritten), so a test's store
is a copy of a seed store whose blob files are hard links: cheap, and still independent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from llmrt.runtime.store import Store, import_default

from tests.conftest import free_port, require_system, stop_process

SMOL = "smollm2:135m"


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("seed") / "models")
    for _ in import_default(SMOL, store=store):
        pass
    return store


def clone_store(src: Store, dst: Path) -> Store:
    shutil.copytree(src.root, dst, copy_function=os.link)
    return Store(dst)


@pytest.fixture
def smol_store(seed_store: Store, tmp_path: Path) -> Store:
    """A store of its own holding smollm2:135m."""
    return clone_store(seed_store, tmp_path / "smol-store")


@pytest.fixture
def empty_store(tmp_path: Path) -> Store:
    return Store(tmp_path / "empty-store")


# ---- docker-registry (the CNCF distribution registry, Debian's package) ----------------------

@dataclass
class DockerRegistry:
    host: str
    data: Path
    proc: subprocess.Popen[bytes]

    def blob_file(self, digest: str) -> Path:
        hexd = digest.removeprefix("sha256:")
        return self.data / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"

    def stop(self) -> None:
        stop_process(self.proc)


def docker_registry_binary() -> str:
    found = shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if Path("/usr/bin/docker-registry").exists() else None)
    require_system(found is not None, "docker-registry is not installed", "docker-registry")
    assert found is not None
    return found


def start_docker_registry(root: Path) -> DockerRegistry:
    port = free_port()
    data = root / "data"
    data.mkdir(parents=True)
    config = root / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: llmrt-test
""")
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen([docker_registry_binary(), "serve", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    reg = DockerRegistry(f"127.0.0.1:{port}", data, proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("docker-registry exited: "
                               + (root / "registry.log").read_text()[-2000:])
        try:
            if httpx.get(f"http://{reg.host}/v2/", timeout=2).status_code == 200:
                return reg
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    reg.stop()
    raise RuntimeError("docker-registry did not answer /v2/ within 30 s")


@pytest.fixture(scope="module")
def docker_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerRegistry]:
    reg = start_docker_registry(tmp_path_factory.mktemp("docker-registry"))
    yield reg
    reg.stop()


@pytest.fixture
def private_docker_registry(tmp_path: Path) -> Iterator[DockerRegistry]:
    """A registry for one test (for tests that damage its storage)."""
    reg = start_docker_registry(tmp_path / "private-registry")
    yield reg
    reg.stop()
