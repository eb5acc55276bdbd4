"""Digests and blobs: verified on write, never outside the store, temp files never left behind."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from llmrt.runtime.errors import DigestMismatch, InvalidDigest, StoreError
from llmrt.runtime.store import Store, models_dir, parse_digest
from llmrt.runtime.store.blobs import pinned

HEX = "0123456789abcdef"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@given(st.text(HEX, min_size=64, max_size=64), st.sampled_from([":", "-"]), st.booleans())
def test_digest_forms_normalize(hexd, sep, upper):
    text = "sha256" + sep + (hexd.upper() if upper else hexd)
    assert parse_digest(text) == "sha256:" + hexd


@pytest.mark.parametrize("bad", [
    "", "sha256:", "sha256:abc", "sha512:" + "0" * 64, "sha256:" + "g" * 64,
    "sha256:" + "0" * 63, "sha256:" + "0" * 65, "sha256:../../../../etc/passwd",
    "../sha256-" + "0" * 64, "sha256-" + "0" * 64 + "/../x", "/etc/passwd",
    "sha256:" + "0" * 64 + "\n", " sha256:" + "0" * 64,
])
def test_bad_digests_are_refused_everywhere(tmp_path, bad):
    store = Store(tmp_path)
    with pytest.raises(InvalidDigest):
        parse_digest(bad)
    with pytest.raises(InvalidDigest):
        store.has_blob(bad)
    with pytest.raises(InvalidDigest):
        store.write_blob(bad, b"x")
    assert list(tmp_path.rglob("*")) == []  # nothing created, not even blobs/


@given(st.text(max_size=80))
def test_every_accepted_digest_names_a_file_in_blobs(text):
    store = Store("/srv/models")
    try:
        path = store.blob_path(text)
    except InvalidDigest:
        return
    assert path.parent == store.paths.blobs and path.name.startswith("sha256-")


def test_write_blob_verifies_and_publishes(tmp_path):
    store = Store(tmp_path)
    data = b"hello blob" * 1000
    digest = store.write_blob(digest_of(data), [data[:100], data[100:]])
    assert digest == digest_of(data)
    assert store.has_blob(digest)
    assert store.blob_path(digest).read_bytes() == data
    assert store.blob_path(digest).name == "sha256-" + digest[7:]


def test_a_blob_that_does_not_match_its_digest_is_not_written(tmp_path):
    store = Store(tmp_path)
    claimed = digest_of(b"what the client promised")
    with pytest.raises(DigestMismatch):
        store.write_blob(claimed, b"what it sent instead")
    assert not store.has_blob(claimed)
    assert os.listdir(store.paths.blobs) == []  # no temporary file left either


def test_an_interrupted_writer_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    data = b"partial upload"
    with pytest.raises(RuntimeError), store.blobs.writer(digest_of(data)) as w:
        w.write(data[:5])
        raise RuntimeError("client went away")
    assert os.listdir(store.paths.blobs) == []


def test_write_blob_from_a_file_object(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(3 << 20))
    store = Store(tmp_path / "models")
    with src.open("rb") as f:
        digest = store.write_blob(digest_of(src.read_bytes()), f)
    assert store.blob_path(digest).read_bytes() == src.read_bytes()


def test_store_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("LLMRT_MODELS", raising=False)
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama"))
    assert models_dir() == tmp_path / "ollama"
    monkeypatch.setenv("LLMRT_MODELS", str(tmp_path / "llmrt"))
    assert models_dir() == tmp_path / "llmrt"
    assert Store().root == tmp_path / "llmrt"
    monkeypatch.delenv("LLMRT_MODELS")
    monkeypatch.delenv("OLLAMA_MODELS")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert models_dir() == tmp_path / "home" / ".llmrt" / "models"


def test_pinned_blobs_survive_prune(tmp_path):
    store = Store(tmp_path)
    keep = store.write_blob(None, b"in flight")
    drop = store.write_blob(None, b"garbage")
    with pinned(store.paths, [keep]):
        assert store.prune() == [drop]
    assert store.has_blob(keep) and not store.has_blob(drop)
    assert store.prune() == [keep]


def test_paths_refuse_to_leave_the_root(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(StoreError):
        store.paths._inside(tmp_path / ".." / "elsewhere")
