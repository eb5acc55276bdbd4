"""Pull from registries that behave the ways Ollama's users meet and Ollama fails on: blobs
answered 200 (with and without Range), redirects to a storage host, a token realm on another
host, dropped and stalled connections, a private CA; plus plain-http and malicious manifests."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from llmrt.runtime.errors import InvalidDigest, RegistryAuthError, RegistryError
from llmrt.runtime.store import Credentials, Store, TransferOptions, pull
from llmrt.runtime.store import manifest as mt

from tests.store.registry_app import RegistryState, ServerThread, make_app

REPO = "test/smol"
PARTS = TransferOptions(min_part_size=8 << 20, backoff=0.01)


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Served:
    state: RegistryState
    host: str  # the registry, 127.0.0.1:<port>
    other: str  # the token/storage host, 127.0.0.2:<port>
    manifest: bytes

    @property
    def name(self) -> str:
        return f"{self.host}/{REPO}:latest"

    def requests_to(self, host: str, path_part: str = "") -> list[tuple[str, str, dict]]:
        return [r for r in self.state.requests if f"//{host}/" in r[1] and path_part in r[1]]


@pytest.fixture
def served(smol_store: Store) -> Iterator[Served]:
    _, manifest, raw = smol_store.read_manifest("smollm2:135m")
    state = RegistryState(
        manifests={(REPO, "latest"): raw},
        blobs={la.digest: smol_store.blob_path(la.digest) for la in manifest.all_layers},
        model_digest=manifest.first(mt.MODEL).digest)
    app = make_app(state)
    ports = free_port("127.0.0.1"), free_port("127.0.0.2")
    with ServerThread(app, "127.0.0.1", ports[0]), ServerThread(app, "127.0.0.2", ports[1]):
        yield Served(state, f"127.0.0.1:{ports[0]}", f"127.0.0.2:{ports[1]}", raw)


def assert_pulled(store: Store, served: Served) -> None:
    _, manifest, raw = store.read_manifest(served.name)
    assert raw == served.manifest
    for layer in manifest.all_layers:
        data = store.blob_path(layer.digest).read_bytes()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == layer.digest
    assert not list(store.paths.blobs.glob("*-partial*"))


def blob_gets(served: Served, host: str) -> list[dict]:
    return [h for m, url, h in served.requests_to(host, served.state.model_digest) if m == "GET"]


def test_blob_answered_200_with_ranges(served, empty_store):
    served.state.mode = "ranges"
    list(pull(served.name, store=empty_store, insecure=True, options=PARTS))
    assert_pulled(empty_store, served)
    ranges = [h["range"] for h in blob_gets(served, served.host)]
    assert ranges[0] == "bytes=0-0" and len(ranges) == 1 + 12  # probe, then 12 parts


def test_blob_answered_200_whole_without_range_support(served, empty_store):
    served.state.mode = "whole"
    list(pull(served.name, store=empty_store, insecure=True, options=PARTS))
    assert_pulled(empty_store, served)
    assert len(blob_gets(served, served.host)) == 2  # the probe, then one whole GET


def test_redirect_to_a_storage_host_gets_no_registry_credentials(served, empty_store,
                                                                 monkeypatch, tmp_path):
    served.state.mode = "redirect"
    served.state.storage_url = f"http://{served.other}"
    served.state.token_url = f"http://{served.other}/token"
    list(pull(served.name, store=empty_store, insecure=True, options=PARTS,
              credentials=Credentials("alice", "secret")))
    assert_pulled(empty_store, served)
    storage = [h for m, u, h in served.requests_to(served.other, "/storage/")
               if m == "GET" and served.state.model_digest in u]
    assert len(storage) == 1 + 12
    assert all("authorization" not in h for h in storage)
    registry = blob_gets(served, served.host)
    assert registry and all(h.get("authorization") == "Bearer let-me-in" for h in registry)


def test_token_realm_on_another_host_with_netrc_credentials(served, empty_store, monkeypatch,
                                                            tmp_path):
    served.state.token_url = f"http://{served.other}/token"
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.2 login alice password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    records = list(pull(served.name, store=empty_store, insecure=True, options=PARTS))
    assert records[-1].status == "success"
    assert_pulled(empty_store, served)
    [token_request] = [h for m, u, h in served.requests_to(served.other, "/token")]
    assert token_request["authorization"].startswith("Basic ")
    denied = [u for m, u, h in served.requests_to(served.host) if "authorization" not in h]
    assert len(denied) == 1  # one 401 challenge, then every request carried the token


def test_wrong_credentials_are_an_auth_error(served, empty_store, monkeypatch):
    served.state.token_url = f"http://{served.other}/token"
    monkeypatch.setenv("LLMRT_REGISTRY_USERNAME", "alice")
    monkeypatch.setenv("LLMRT_REGISTRY_PASSWORD", "wrong")
    with pytest.raises(RegistryAuthError, match="refused"):
        list(pull(served.name, store=empty_store, insecure=True))
    assert empty_store.list() == []


def test_a_plain_http_realm_needs_insecure(served, tmp_path):
    # an https registry whose realm is plain http: refused before any credential is sent
    from llmrt.runtime.store.auth import Authenticator, parse_challenge

    challenge = parse_challenge('Bearer realm="http://127.0.0.2:1/token",service="s",'
                                'scope="repository:a/b:pull"')
    assert challenge.params == {"realm": "http://127.0.0.2:1/token", "service": "s",
                                "scope": "repository:a/b:pull"}
    import httpx

    with httpx.Client() as http:
        auth = Authenticator(http, "example.com", credentials=Credentials("a", "b"))
        response = httpx.Response(401, headers={"www-authenticate": 'Bearer realm="http://'
                                                '127.0.0.2:1/token"'})
        with pytest.raises(RegistryAuthError, match="plain http"):
            auth.answer(response, "repository:a/b:pull")


def test_dropped_connections_are_retried(served, empty_store):
    served.state.mode = "flaky"
    list(pull(served.name, store=empty_store, insecure=True, options=PARTS))
    assert_pulled(empty_store, served)
    failed = [k for k in served.state.failed_once if k.startswith(served.state.model_digest)]
    assert len(failed) == 12  # every part of the model failed once, then finished


def test_a_stalled_transfer_is_dropped_and_retried(served, empty_store):
    served.state.mode = "stall"
    options = TransferOptions(stall_timeout=0.5, backoff=0.01)
    list(pull(served.name, store=empty_store, insecure=True, options=options))
    assert_pulled(empty_store, served)
    assert served.state.failed_once == {served.state.model_digest}


def test_closing_the_pull_stops_it_and_a_later_pull_resumes(served, empty_store):
    slow = TransferOptions(min_part_size=8 << 20, chunk_size=64 << 10, checkpoint_size=1 << 20,
                           max_rate=16 << 20)
    progress = pull(served.name, store=empty_store, insecure=True, options=slow)
    for p in progress:
        if p.digest == served.state.model_digest and p.completed > 8 << 20:
            break
    progress.close()  # what a client disconnect does to the route's iterator
    assert empty_store.paths.partial(served.state.model_digest).exists()
    assert empty_store.find(served.name) is None
    records = list(pull(served.name, store=empty_store, insecure=True, options=PARTS))
    first = next(p for p in records if p.digest == served.state.model_digest)
    assert first.completed > 8 << 20
    assert_pulled(empty_store, served)


def test_plain_http_is_never_chosen_silently(served, empty_store):
    with pytest.raises(RegistryError, match="insecure"):
        list(pull(f"http://{served.host}/{REPO}:latest", store=empty_store))
    with pytest.raises(RegistryError, match="TLS"):  # https to a plain-http server: no retries
        list(pull(served.name, store=empty_store))
    list(pull(f"http://{served.host}/{REPO}:latest", store=empty_store, insecure=True))
    assert_pulled(empty_store, served)


def test_a_manifest_naming_a_bad_digest_writes_nothing(served, empty_store):
    evil = served.manifest.replace(served.state.model_digest.encode(), b"sha256:../../../x")
    served.state.manifests[(REPO, "evil")] = evil
    with pytest.raises(InvalidDigest):
        list(pull(f"{served.host}/{REPO}:evil", store=empty_store, insecure=True))
    assert not empty_store.root.exists() or not any(
        p.is_file() for p in empty_store.root.rglob("*"))


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make the test certificates")
    d = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=llmrt test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return {"ca": d / "ca.pem", "key": d / "server.key", "cert": d / "server.pem"}


def test_a_private_ca_bundle(served, empty_store, tls_files, monkeypatch):
    port = free_port("127.0.0.1")
    app = make_app(served.state)
    with ServerThread(app, "127.0.0.1", port, ssl_keyfile=str(tls_files["key"]),
                      ssl_certfile=str(tls_files["cert"])):
        name = f"127.0.0.1:{port}/{REPO}:latest"
        with pytest.raises(RegistryError, match="TLS"):
            list(pull(name, store=empty_store))
        list(pull(name, store=empty_store, ca_bundle=tls_files["ca"]))
        assert empty_store.read_manifest(name)[2] == served.manifest
        assert empty_store.delete(name)
        monkeypatch.setenv("LLMRT_CA_BUNDLE", str(tls_files["ca"]))
        assert list(pull(name, store=empty_store))[-1].status == "success"
