"""Download one blob: parallel ranged parts into ``<blob>-partial``, resumable, then verified.

Where the bytes are is found first: ``GET /v2/<repo>/blobs/<digest>`` with ``Range: bytes=0-0``
and redirects not followed; a 3xx points at a storage URL (fetched without our registry
credentials), a 206 or 200 means the registry serves the blob itself (Ollama requires the
redirect; we do not). A 200 to a ranged request means no ranges: one part, restarted on failure.

Parts are written in place (``os.pwrite``) into the sparse ``-partial`` file; each part's progress
is made durable in ``-partial-<N>`` (Ollama's ``{"N","Offset","Size","Completed"}``) after an
fsync, so a killed process resumes where its last checkpoint was. Failed requests are retried with
exponential backoff; a request with no byte for ``stall_timeout`` is dropped and retried without
counting. :meth:`BlobDownload.verify` hashes the file and renames it into ``sha256-<hex>``, or
deletes it on a mismatch.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

import httpx
import msgspec

from ..errors import Cancelled, DigestMismatch, RegistryError
from ._atomic import fsync_dir, write_bytes
from .client import RETRYABLE_STATUS, RegistryClient, check_retryable, error_for
from .store import Store
from .transfer import RateLimiter, TransferOptions


class PartState(msgspec.Struct, rename="pascal"):
    n: int
    offset: int
    size: int
    completed: int = 0


class _Retry(Exception):
    """A response worth retrying (5xx, 429, a body that ended early)."""


class _Stopped(Exception):
    """Another part failed; this one stops at its next chunk."""


class BlobDownload:
    def __init__(self, client: RegistryClient, store: Store, digest: str, size: int, *,
                 options: TransferOptions | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.client = client
        self.store = store
        self.digest = digest
        self.size = size
        self.options = options or TransferOptions()
        self.cancel = cancel or threading.Event()
        self.partial = store.paths.partial(digest)
        self.parts = self._load_or_plan()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._limiter = RateLimiter(self.options.max_rate)
        self._fd = -1

    @property
    def completed(self) -> int:
        return sum(p.completed for p in self.parts)

    # ---- part bookkeeping -----------------------------------------------------------------------

    def _state_path(self, n: int) -> Path:
        return self.partial.with_name(f"{self.partial.name}-{n}")

    def _state_files(self) -> list[Path]:
        return sorted(self.partial.parent.glob(self.partial.name + "-*"))

    def _plan(self) -> list[PartState]:
        step = self.options.part_size(self.size)
        return [PartState(n, off, min(step, self.size - off))
                for n, off in enumerate(range(0, self.size, step))] or [PartState(0, 0, 0)]

    def _load_or_plan(self) -> list[PartState]:
        """The parts of an interrupted download if they tile the blob, else a fresh plan."""
        if self.partial.is_file():
            try:
                parts = sorted((msgspec.json.decode(p.read_bytes(), type=PartState)
                                for p in self._state_files()), key=lambda p: p.offset)
            except (OSError, msgspec.MsgspecError):
                parts = []
            end = 0
            for p in parts:
                if p.offset != end or not 0 <= p.completed <= p.size:
                    break
                end += p.size
            else:
                if parts and end == self.size:
                    return parts
        self._discard()
        return self._plan()

    def _discard(self) -> None:
        for p in self._state_files():
            p.unlink(missing_ok=True)
        self.partial.unlink(missing_ok=True)

    def _checkpoint(self, part: PartState) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
        write_bytes(self._state_path(part.n), msgspec.json.encode(part))

    # ---- transfer -------------------------------------------------------------------------------

    def run(self) -> None:
        """Fetch every missing byte into the -partial file (not yet verified)."""
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        url, ranges = self._locate() if self.size else ("", True)
        if not ranges and self.completed:
            self._discard()  # the server cannot resume: start again as one part
        if not ranges:
            self.parts = [PartState(0, 0, self.size)]
        self._fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(self._fd).st_size != self.size:
                os.ftruncate(self._fd, self.size)
            for part in self.parts:
                self._checkpoint(part)
            pending = [p for p in self.parts if p.completed < p.size]
            if pending:
                workers = min(self.options.max_parts, len(pending))
                with ThreadPoolExecutor(workers, thread_name_prefix="llmrt-pull") as pool:
                    futures = [pool.submit(self._fetch, url, p, ranges) for p in pending]
                    wait(futures, return_when=FIRST_EXCEPTION)
                    self._stop.set()
                    wait(futures)
                errors = [e for f in futures if (e := f.exception()) is not None]
                real = [e for e in errors if not isinstance(e, _Stopped)]
                if real or errors:
                    raise (real or errors)[0]
        finally:
            self._stop.set()
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def _locate(self) -> tuple[str, bool]:
        """(URL the bytes come from, whether it honours Range)."""
        url: str = self.client.url(f"blobs/{self.digest}")
        for _ in range(8):
            with contextlib.closing(self._open(url, {"Range": "bytes=0-0"})) as response:
                if response.is_redirect:
                    url = str(response.url.join(response.headers["location"]))
                    continue
                if response.status_code == 206:
                    total = response.headers.get("content-range", "").rpartition("/")[2]
                    if total.isdigit() and int(total) != self.size:
                        raise RegistryError(f"blob {self.digest} has {total} bytes, the manifest "
                                            f"says {self.size}")
                    return url, True
                if response.status_code == 200:
                    return url, False
                raise error_for(response, f"blob {self.digest}")
        raise RegistryError(f"blob {self.digest}: too many redirects")

    def _open(self, url: str, headers: dict[str, str]) -> httpx.Response:
        """A streaming response (the caller closes it), retried on transport errors and 5xx."""
        failures = 0
        while True:
            self._check_cancel()
            try:
                response = self.client.send("GET", url, headers=headers, stream=True)
                if response.status_code not in RETRYABLE_STATUS:
                    return response
                err = error_for(response, f"GET {url}")
                response.close()
                raise _Retry(str(err))
            except (httpx.TransportError, _Retry) as exc:
                if isinstance(exc, httpx.TransportError):
                    check_retryable(exc, f"GET {url}")
                failures += 1
                if failures > self.options.retries:
                    raise RegistryError(f"GET {url} failed {failures} times: {exc}") from exc
                self._sleep(self.options.delay(failures))

    def _fetch(self, url: str, part: PartState, ranges: bool) -> None:
        failures = stalls = 0
        since = 0
        try:
            while part.completed < part.size:
                self._check_cancel()
                if not ranges:
                    part.completed = 0
                start, end = part.offset + part.completed, part.offset + part.size - 1
                headers = {"Range": f"bytes={start}-{end}"} if ranges else {}
                try:
                    with contextlib.closing(self._open(url, headers)) as r:
                        if r.status_code != (206 if ranges else 200):
                            raise error_for(r, f"blob {self.digest} bytes {start}-{end}")
                        for chunk in r.iter_bytes(self.options.chunk_size):
                            n = min(len(chunk), part.size - part.completed)
                            os.pwrite(self._fd, chunk[:n], part.offset + part.completed)
                            with self._lock:
                                part.completed += n
                            since += n
                            self._limiter.consume(n)
                            if since >= self.options.checkpoint_size:
                                self._checkpoint(part)
                                since = 0
                            self._check_cancel()
                            if part.completed >= part.size:
                                break
                    if part.completed < part.size:
                        raise _Retry("the response ended early")
                except httpx.ReadTimeout as exc:
                    stalls += 1
                    if stalls > self.options.max_stalls:
                        raise RegistryError(f"blob {self.digest} stalled {stalls} times") from exc
                except (httpx.TransportError, _Retry) as exc:
                    if isinstance(exc, httpx.TransportError):
                        check_retryable(exc, f"GET {url}")
                    failures += 1
                    if failures > self.options.retries:
                        raise RegistryError(f"blob {self.digest} failed {failures} times: "
                                            f"{exc}") from exc
                    self._sleep(self.options.delay(failures))
        finally:
            self._checkpoint(part)

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled(f"pull of {self.digest} cancelled")
        if self._stop.is_set():
            raise _Stopped

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds) or self._stop.is_set():
            self._check_cancel()

    # ---- verification ---------------------------------------------------------------------------

    def verify(self) -> None:
        """Hash the downloaded file; publish it as the blob, or delete it and raise."""
        h = hashlib.sha256()
        with self.partial.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        actual = "sha256:" + h.hexdigest()
        if actual != self.digest:
            self._discard()
            raise DigestMismatch(f"downloaded blob has digest {actual}, expected {self.digest}; "
                                 "it was deleted")
        os.replace(self.partial, self.store.blobs.path(self.digest))
        for p in self._state_files():
            p.unlink(missing_ok=True)
        fsync_dir(self.partial.parent)
