"""pull and push: Ollama's registry transfers over the Docker/OCI distribution v2 protocol.

    for p in pull("127.0.0.1:5000/me/tiny:latest", insecure=True):
        print(p.status, p.completed, p.total)

Pull: ``GET /v2/<ns>/<model>/manifests/<tag>``, then each blob the store lacks (download.py:
parallel ranged parts, resumable, retried), then every new blob verified, then the manifest
written (its raw bytes: the digest stays the registry's), then blobs only the replaced manifest
used are pruned. Nothing is written to a manifest unless all of its blobs verified. The embedded
defaults (``smollm2:135m``, ``gemma3:270m``) need no registry: defaults.py imports them.

Push: every blob through upload.py, then ``PUT /v2/<ns>/<model>/manifests/<tag>``.

Both yield Ollama's progress records and stop cleanly (parts checkpointed) when the consumer
closes the generator, e.g. on a client disconnect.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Protocol

import httpx

from ..errors import DigestMismatch, ModelNotFound, RegistryError, StoreError
from . import manifest as mt
from .auth import Credentials
from .blobs import pinned
from .client import RETRYABLE_STATUS, RegistryClient, check_retryable, error_for
from .defaults import default_for, import_default
from .download import BlobDownload
from .names import Name, parse_name
from .paths import short_digest
from .progress import Progress
from .store import Store
from .transfer import TransferOptions
from .upload import BlobUpload

MAX_MANIFEST = 8 << 20


def pull(name: str | Name, *, insecure: bool = False, store: Store | None = None,
         credentials: Credentials | None = None, ca_bundle: str | os.PathLike[str] | None = None,
         options: TransferOptions | None = None,
         http: httpx.Client | None = None) -> Iterator[Progress]:
    """Pull a model into the store. Errors: InvalidName, ModelNotFound, RegistryError (and
    RegistryAuthError), DigestMismatch, InvalidDigest (a manifest naming a bad digest)."""
    store = store or Store()
    n = parse_name(name) if isinstance(name, str) else name
    if default_for(n) is not None:
        yield from import_default(n, store=store)
        return
    options = options or TransferOptions()
    cancel = threading.Event()
    with RegistryClient(n, insecure=insecure, credentials=credentials, ca_bundle=ca_bundle,
                        options=options, http=http) as client:
        yield Progress("pulling manifest")
        raw = _fetch_manifest(client, n, options)
        manifest = mt.decode_manifest(raw)
        previous = store.find(n)
        old = (set() if previous is None else
               {la.digest for la in store.read_manifest(previous)[1].all_layers})
        with pinned(store.paths, [la.digest for la in manifest.all_layers]):
            downloads = []
            seen: set[str] = set()
            for layer in manifest.all_layers:
                if layer.digest in seen:
                    continue
                seen.add(layer.digest)
                status = f"pulling {short_digest(layer.digest)}"
                if store.has_blob(layer.digest):
                    yield Progress(status, layer.digest, layer.size, layer.size)
                    continue
                dl = BlobDownload(client, store, layer.digest, layer.size, options=options,
                                  cancel=cancel)
                yield Progress(status, layer.digest, layer.size, dl.completed)
                for done in _watch(dl, cancel):
                    yield Progress(status, layer.digest, layer.size, done)
                downloads.append(dl)
            yield Progress("verifying sha256 digest")
            mismatches = []
            for dl in downloads:  # every one: good blobs are kept, bad ones deleted
                try:
                    dl.verify()
                except DigestMismatch as exc:
                    mismatches.append(exc)
            if mismatches:
                raise mismatches[0]
            yield Progress("writing manifest")
            store.write_manifest(n, raw)
            stale = old - {la.digest for la in manifest.all_layers}
        if stale:
            yield Progress("removing unused layers")
            store.prune(only=stale)
        yield Progress("success")


def push(name: str | Name, *, insecure: bool = False, store: Store | None = None,
         credentials: Credentials | None = None, ca_bundle: str | os.PathLike[str] | None = None,
         options: TransferOptions | None = None,
         http: httpx.Client | None = None) -> Iterator[Progress]:
    """Push a stored model to the registry its name names. Errors: ModelNotFound (not stored),
    RegistryError / RegistryAuthError."""
    store = store or Store()
    n = parse_name(name) if isinstance(name, str) else name
    options = options or TransferOptions()
    cancel = threading.Event()
    _, manifest, raw = store.read_manifest(n)
    paths = {}
    for layer in manifest.all_layers:
        paths[layer.digest] = path = store.blobs.path(layer.digest)
        if not path.is_file():
            raise StoreError(f"cannot push {n}: blob {layer.digest} is missing")
    with RegistryClient(n, insecure=insecure, credentials=credentials, ca_bundle=ca_bundle,
                        options=options, http=http) as client:
        yield Progress("retrieving manifest")
        for layer in manifest.all_layers:
            status = f"pushing {short_digest(layer.digest)}"
            up = BlobUpload(client, paths[layer.digest], layer, options=options, cancel=cancel)
            yield Progress(status, layer.digest, layer.size)
            for done in _watch(up, cancel):
                yield Progress(status, layer.digest, layer.size, done)
            yield Progress(status, layer.digest, layer.size, layer.size)
        yield Progress("pushing manifest")
        r = client.send("PUT", client.url(f"manifests/{n.tag}"), scope="pull,push",
                        headers={"Content-Type": manifest.media_type}, body=raw)
        if r.status_code not in (200, 201, 202):
            raise error_for(r, f"pushing the manifest of {n}")
        yield Progress("success")


def _fetch_manifest(client: RegistryClient, n: Name, options: TransferOptions) -> bytes:
    url = client.url(f"manifests/{n.tag}")
    accept = f"{mt.MANIFEST_V2}, {mt.OCI_MANIFEST}"
    failures = 0
    while True:
        try:
            with client.stream("GET", url, headers={"Accept": accept}) as r:
                if r.status_code == 404:
                    raise ModelNotFound(f"{n} not found in the registry {n.host}")
                if r.status_code not in RETRYABLE_STATUS:
                    if r.status_code != 200:
                        raise error_for(r, f"pulling the manifest of {n}")
                    body = b""
                    for chunk in r.iter_bytes():
                        body += chunk
                        if len(body) > MAX_MANIFEST:
                            raise RegistryError(f"the manifest of {n} is over {MAX_MANIFEST} "
                                                "bytes")
                    return body
                err: Exception = error_for(r, f"pulling the manifest of {n}")
        except httpx.ConnectError as exc:  # no such host / nothing listening: say so now
            check_retryable(exc, f"pulling the manifest of {n}")  # TLS errors say so first
            raise RegistryError(f"pulling the manifest of {n}: cannot reach the registry "
                                f"({exc})") from exc
        except httpx.TransportError as exc:
            check_retryable(exc, f"pulling the manifest of {n}")
            err = exc
        failures += 1
        if failures > options.retries:
            raise RegistryError(f"pulling the manifest of {n}: {err}") from err
        time.sleep(options.delay(failures))


class _Job(Protocol):
    @property
    def completed(self) -> int: ...

    def run(self) -> None: ...


def _watch(job: _Job, cancel: threading.Event, poll: float = 0.1) -> Iterator[int]:
    """Run ``job`` in a thread; yield its ``completed`` as it changes. Closing the generator
    cancels the job and waits for it to stop."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            job.run()
        except BaseException as exc:  # re-raised in the generator's thread
            failure.append(exc)

    worker = threading.Thread(target=run, name="llmrt-transfer", daemon=True)
    worker.start()
    try:
        last = -1
        while worker.is_alive():
            worker.join(poll)
            if job.completed != last:
                last = job.completed
                yield last
    finally:
        if worker.is_alive():
            cancel.set()
            worker.join()
    if failure:
        raise failure[0]
