"""Push and pull against a real registry: Debian's docker-registry (CNCF distribution 2.8),
started by the fixture on a free loopback port."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time

import httpx
import msgspec
import pytest
from llmrt.runtime.errors import DigestMismatch, ModelNotFound
from llmrt.runtime.llm import LLM
from llmrt.runtime.store import CreateRequest, Store, TransferOptions, create, pull, push
from llmrt.runtime.store import manifest as mt
from llmrt.runtime.store.download import PartState

#: small parts, so the 98 MB model is fetched as 12 ranged parts in parallel
PARTS = TransferOptions(min_part_size=8 << 20, backoff=0.05)


def publish(store: Store, registry, repo: str) -> str:
    """Name smollm2 ``<registry>/<repo>:latest`` and push it; return that name."""
    name = f"{registry.host}/{repo}:latest"
    store.copy("smollm2:135m", name)
    records = list(push(name, store=store, insecure=True))
    assert [p.status for p in records][-2:] == ["pushing manifest", "success"]
    return name


def recording_client() -> tuple[httpx.Client, list[httpx.Response]]:
    seen: list[httpx.Response] = []
    client = httpx.Client(timeout=httpx.Timeout(30.0),
                          event_hooks={"response": [seen.append]})
    return client, seen


def test_push_then_pull_into_an_empty_store_round_trips(smol_store, empty_store, docker_registry):
    name = publish(smol_store, docker_registry, "test/roundtrip")
    client, seen = recording_client()
    with client:
        records = list(pull(name, store=empty_store, insecure=True, options=PARTS, http=client))
    statuses = [p.status for p in records]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]

    pushed = smol_store.read_manifest(name)
    pulled = empty_store.read_manifest(name)
    assert pulled[2] == pushed[2]  # the very manifest bytes
    digests = [la.digest for la in pushed[1].all_layers]
    assert [la.digest for la in pulled[1].all_layers] == digests
    for digest in digests:  # every blob, re-hashed from disk
        data = empty_store.blob_path(digest).read_bytes()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == digest

    model = pushed[1].first(mt.MODEL)
    ranged = [r for r in seen if r.request.method == "GET" and model.digest in str(r.url)
              and r.status_code == 206 and r.request.headers["range"] != "bytes=0-0"]
    assert len(ranged) == 12  # 98 MB in 8 MB parts, each one ranged GET

    m = empty_store.resolve(name)
    with LLM(m.model_path, num_ctx=512, num_thread=2) as llm:
        out = llm.generate("The capital of France is", num_predict=4, temperature=0)
    assert out.eval_count > 0 and out.text.strip()


CHILD = """
import sys
from llmrt.runtime.store import Store, TransferOptions, pull
slow = TransferOptions(min_part_size=8 << 20, chunk_size=64 << 10,
                       checkpoint_size=1 << 20, max_rate=8 << 20)
for p in pull(sys.argv[1], store=Store(sys.argv[2]), insecure=True, options=slow):
    print(p.status, p.completed, flush=True)
"""


def checkpointed(store: Store, digest: str) -> int:
    total = 0
    for path in store.paths.blobs.glob(f"sha256-{digest[7:]}-partial-*"):
        with contextlib.suppress(OSError):  # gone: the download finished that part
            total += msgspec.json.decode(path.read_bytes(), type=PartState).completed
    return total


def test_a_pull_killed_mid_blob_resumes_to_the_same_digest(smol_store, empty_store,
                                                            docker_registry):
    name = publish(smol_store, docker_registry, "test/resume")
    model = smol_store.read_manifest(name)[1].first(mt.MODEL)
    child = subprocess.Popen([sys.executable, "-c", CHILD, name, str(empty_store.root)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while checkpointed(empty_store, model.digest) < 16 << 20:
            assert child.poll() is None, child.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the child pulled nothing in 120 s"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()

    done = checkpointed(empty_store, model.digest)
    assert 16 << 20 <= done < model.size
    assert empty_store.paths.partial(model.digest).exists()
    assert not empty_store.has_blob(model.digest)
    assert empty_store.find(name) is None  # no manifest for a half-pulled model

    records = list(pull(name, store=empty_store, insecure=True, options=PARTS))
    first = next(p for p in records if p.digest == model.digest)
    assert first.completed == done  # resumed from the checkpoints, not from zero
    assert records[-1].status == "success"
    data = empty_store.blob_path(model.digest).read_bytes()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == model.digest
    assert not list(empty_store.paths.blobs.glob("*-partial*"))
    assert empty_store.read_manifest(name)[2] == smol_store.read_manifest(name)[2]


def test_a_corrupted_blob_is_rejected_and_no_manifest_written(smol_store, empty_store,
                                                              private_docker_registry):
    name = publish(smol_store, private_docker_registry, "test/corrupt")
    model = smol_store.read_manifest(name)[1].first(mt.MODEL)
    stored = private_docker_registry.blob_file(model.digest)
    with stored.open("r+b") as f:  # same size, one byte flipped, in the registry's storage
        f.seek(model.size // 2)
        byte = f.read(1)
        f.seek(model.size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))

    with pytest.raises(DigestMismatch, match=model.digest):
        list(pull(name, store=empty_store, insecure=True, options=PARTS))
    assert empty_store.find(name) is None
    assert not empty_store.has_blob(model.digest)
    assert not list(empty_store.paths.blobs.glob("*-partial*"))
    assert not (empty_store.paths.manifests).exists() or not any(
        p.is_file() for p in empty_store.paths.manifests.rglob("*"))


def test_push_mounts_layers_the_registry_already_has(smol_store, docker_registry):
    base = publish(smol_store, docker_registry, "test/base")
    derived = f"{docker_registry.host}/test/derived:latest"
    list(create(CreateRequest(model=derived, from_=base, system="Be brief."), store=smol_store))
    model = smol_store.read_manifest(derived)[1].first(mt.MODEL)
    assert model.from_ == f"{docker_registry.host}/test/base:latest"

    client, seen = recording_client()
    with client:
        assert list(push(derived, store=smol_store, insecure=True, http=client))[-1].status \
            == "success"
    mounts = [r for r in seen if r.request.method == "POST"
              and r.request.url.params.get("mount") == model.digest]
    assert [(r.status_code, r.request.url.params["from"]) for r in mounts] == [(201, "test/base")]
    sent = sum(int(r.request.headers["content-length"]) for r in seen
               if r.request.method == "PATCH")
    assert 0 < sent < model.size  # only the new small layers travelled


def test_pulling_a_name_the_registry_lacks(empty_store, docker_registry):
    with pytest.raises(ModelNotFound, match="not found in the registry"):
        list(pull(f"{docker_registry.host}/test/absent:v9", store=empty_store, insecure=True))
    assert empty_store.list() == []


def test_pushing_a_name_the_store_lacks(empty_store, docker_registry):
    with pytest.raises(ModelNotFound):
        list(push(f"{docker_registry.host}/test/absent:v9", store=empty_store, insecure=True))
