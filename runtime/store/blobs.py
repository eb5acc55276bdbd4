"""Blobs: content-addressed files, verified on write.

A blob is written to a temporary file in ``blobs/`` while it is hashed, fsynced, and renamed to
``sha256-<hex>`` only when its sha256 is the digest it claims; a mismatch removes the temporary file
and raises :class:`DigestMismatch`. So a ``sha256-<hex>`` file always holds those bytes.

Blobs a transfer or create is still assembling are *pinned* (in this process) until their manifest
is written, so a concurrent prune never takes them; across processes, ``locked`` (an flock on the
blobs directory) makes prune and manifest writes exclusive, and a manifest write checks that every
blob it names exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import DigestMismatch, StoreError
from ._atomic import fsync_dir
from .paths import StorePaths, parse_digest

CHUNK = 1 << 20


def hash_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """``sha256:<hex>`` of a file's contents."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return "sha256:" + h.hexdigest()


class BlobWriter:
    """Stream bytes into a new blob; ``commit()`` verifies and publishes it.

        with store.blobs.writer(digest) as w:
            for chunk in body:
                w.write(chunk)
        # committed on a clean exit, discarded on an exception
    """

    def __init__(self, paths: StorePaths, digest: str | None) -> None:
        self.digest = parse_digest(digest) if digest is not None else None
        self._paths = paths
        paths.blobs.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-sha256-", dir=paths.blobs)
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def commit(self) -> str:
        """Verify, fsync and rename into place; return the digest."""
        actual = "sha256:" + self._hash.hexdigest()
        try:
            if self.digest is not None and actual != self.digest:
                raise DigestMismatch(f"blob content has digest {actual}, not {self.digest}")
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self._paths.blob(actual))
        except BaseException:
            self.abort()
            raise
        fsync_dir(self._paths.blobs)
        self.digest = actual
        return actual

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class Blobs:
    """The ``blobs/`` directory of one store."""

    def __init__(self, paths: StorePaths) -> None:
        self.paths = paths

    def path(self, digest: str) -> Path:
        return self.paths.blob(digest)

    def has(self, digest: str) -> bool:
        return self.paths.blob(digest).is_file()

    def size(self, digest: str) -> int:
        return self.paths.blob(digest).stat().st_size

    def writer(self, digest: str | None = None) -> BlobWriter:
        return BlobWriter(self.paths, digest)

    def write(self, digest: str | None, data: bytes | Iterable[bytes] | BinaryIO) -> str:
        """Write a blob from bytes, an iterable of chunks or a binary file; verify against
        ``digest`` (None: name it by its content); return the digest."""
        with self.writer(digest) as w:
            if isinstance(data, bytes | bytearray | memoryview):
                w.write(bytes(data))
            elif hasattr(data, "read"):
                while chunk := data.read(CHUNK):  # type: ignore[union-attr]
                    w.write(chunk)
            else:
                for chunk in data:
                    w.write(chunk)
        assert w.digest is not None
        return w.digest

    def import_file(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
        """Copy a local file into the store (hashing as it copies); return its digest."""
        with self.writer() as w, path.open("rb") as src:
            while chunk := src.read(CHUNK):
                w.write(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
        assert w.digest is not None
        return w.digest

    def adopt(self, path: Path, *, before: Callable[[str], None] | None = None) -> str:
        """Publish a finished file already in ``blobs/`` under its digest (a rename, no copy);
        ``before(digest)`` runs first (to pin it). Returns the digest."""
        if path.parent != self.paths.blobs:
            raise StoreError(f"{path} is not in {self.paths.blobs}")
        digest = hash_file(path)
        if before is not None:
            before(digest)
        with path.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(path, self.paths.blob(digest))
        fsync_dir(self.paths.blobs)
        return digest

    def digests(self) -> set[str]:
        """Every complete blob in the store."""
        out = set()
        if self.paths.blobs.is_dir():
            for p in self.paths.blobs.iterdir():
                name = p.name
                if len(name) == 71 and name.startswith("sha256-"):
                    with contextlib.suppress(ValueError):
                        out.add(parse_digest(name))
        return out

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across processes: prune vs. manifest writes."""
        self.paths.blobs.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.paths.blobs, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


_pins: Counter[tuple[str, str]] = Counter()
_pins_lock = threading.Lock()


@contextlib.contextmanager
def pinned(paths: StorePaths, digests: Iterable[str]) -> Iterator[None]:
    """Keep ``digests`` safe from prune in this process while a manifest is assembled."""
    keys = [(str(paths.root), parse_digest(d)) for d in digests]
    with _pins_lock:
        _pins.update(keys)
    try:
        yield
    finally:
        with _pins_lock:
            _pins.subtract(keys)
            for k in keys:
                if _pins[k] <= 0:
                    del _pins[k]


def pin(paths: StorePaths, digest: str) -> None:
    with _pins_lock:
        _pins[(str(paths.root), parse_digest(digest))] += 1


def unpin(paths: StorePaths, digest: str) -> None:
    key = (str(paths.root), parse_digest(digest))
    with _pins_lock:
        _pins[key] -= 1
        if _pins[key] <= 0:
            del _pins[key]


def is_pinned(paths: StorePaths, digest: str) -> bool:
    with _pins_lock:
        return _pins[(str(paths.root), parse_digest(digest))] > 0
