"""Upload one blob the way the distribution protocol wants it.

``HEAD blobs/<digest>`` (present: done) → ``POST blobs/uploads/`` (with ``?mount=<digest>&from=
<repo>`` when the layer came from another model: a 201 means the registry linked it, nothing to
send) → ``PATCH <location>`` chunks with ``Content-Range: <start>-<end>``, following the new
``Location`` each answer gives → ``PUT <location>?digest=<digest>``. A failed PATCH asks the upload
where it stands (``GET <location>``, its ``Range``) and goes on from there, with backoff.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from ..errors import Cancelled, RegistryError
from .client import RETRYABLE_STATUS, RegistryClient, check_retryable, error_for
from .manifest import Layer
from .names import parse_name
from .transfer import TransferOptions


class _Retry(Exception):
    """A PATCH answered with a status worth retrying."""


class BlobUpload:
    def __init__(self, client: RegistryClient, path: Path, layer: Layer, *,
                 options: TransferOptions | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.client = client
        self.path = path
        self.layer = layer
        self.options = options or TransferOptions()
        self.cancel = cancel or threading.Event()
        self.completed = 0
        #: "exists", "mounted" or "uploaded" once run() returns
        self.outcome = ""

    def run(self) -> None:
        digest = self.layer.digest
        head = self._retrying(lambda: self.client.send("HEAD", self.client.url(f"blobs/{digest}")))
        if head.status_code == 200:
            self.completed, self.outcome = self.layer.size, "exists"
            return
        params = {}
        if self.layer.from_:
            try:
                source = parse_name(self.layer.from_)
            except ValueError:
                source = None
            if source is not None and source.repository != self.client.name.repository:
                params = {"mount": digest, "from": source.repository}
        start = self._retrying(lambda: self.client.send(
            "POST", httpx.URL(self.client.url("blobs/uploads/"), params=params),
            scope="pull,push"))
        if start.status_code == 201 and params:
            self.completed, self.outcome = self.layer.size, "mounted"
            return
        if start.status_code != 202:
            raise error_for(start, f"starting the upload of {digest}")
        location = self._location(start)
        offset = 0
        failures = 0
        while offset < self.layer.size:
            n = min(self.options.upload_chunk_size, self.layer.size - offset)
            try:
                r = self.client.send(
                    "PATCH", location, scope="pull,push",
                    headers={"Content-Type": "application/octet-stream",
                             "Content-Range": f"{offset}-{offset + n - 1}",
                             "Content-Length": str(n)},
                    body=self._chunks(offset, n))
                if r.status_code in RETRYABLE_STATUS:
                    raise _Retry(str(error_for(r, f"PATCH {digest}")))
                if r.status_code != 202:
                    raise error_for(r, f"uploading {digest}")
                location = self._location(r)
                offset += n
                self.completed = offset
            except (httpx.TransportError, _Retry) as exc:
                if isinstance(exc, httpx.TransportError):
                    check_retryable(exc, f"PATCH {digest}")
                failures += 1
                if failures > self.options.retries:
                    raise RegistryError(f"uploading {digest} failed {failures} times: {exc}") \
                        from exc
                self._wait(self.options.delay(failures))
                location, offset = self._status(location)
                self.completed = offset
        done = self._retrying(lambda: self.client.send(
            "PUT", httpx.URL(location).copy_merge_params({"digest": digest}),
            scope="pull,push", headers={"Content-Length": "0"}, body=b""))
        if done.status_code not in (201, 204):
            raise error_for(done, f"finishing the upload of {digest}")
        self.completed, self.outcome = self.layer.size, "uploaded"

    def _chunks(self, offset: int, n: int) -> Callable[[], Iterator[bytes]]:
        def chunks() -> Iterator[bytes]:
            sent = 0
            with self.path.open("rb") as f:
                f.seek(offset)
                while sent < n:
                    if self.cancel.is_set():
                        raise Cancelled(f"push of {self.layer.digest} cancelled")
                    data = f.read(min(self.options.chunk_size, n - sent))
                    if not data:
                        raise RegistryError(f"{self.path} shrank while being pushed")
                    sent += len(data)
                    self.completed = offset + sent
                    yield data
        return chunks

    def _status(self, location: str) -> tuple[str, int]:
        """Where an interrupted upload stands: (location, next offset)."""
        r = self._retrying(lambda: self.client.send("GET", location, scope="pull,push"))
        if r.status_code != 204:
            raise error_for(r, f"asking how far the upload of {self.layer.digest} got")
        last = r.headers.get("range", "0--1").rpartition("-")[2]
        return self._location(r, default=location), int(last) + 1 if last.isdigit() else 0

    def _location(self, response: httpx.Response, default: str | None = None) -> str:
        loc = (response.headers.get("docker-upload-location")
               or response.headers.get("location") or default)
        if not loc:
            raise RegistryError(f"{self.client.name.host} gave no upload location")
        return str(response.url.join(loc))

    def _retrying(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        failures = 0
        while True:
            if self.cancel.is_set():
                raise Cancelled(f"push of {self.layer.digest} cancelled")
            try:
                r = send()
                if r.status_code not in RETRYABLE_STATUS:
                    return r
                exc: Exception = error_for(r, "registry")
            except httpx.TransportError as e:
                check_retryable(e, "registry")
                exc = e
            failures += 1
            if failures > self.options.retries:
                raise RegistryError(f"{exc} (after {failures} tries)") from exc
            self._wait(self.options.delay(failures))

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.cancel.wait(left):
                raise Cancelled(f"push of {self.layer.digest} cancelled")
