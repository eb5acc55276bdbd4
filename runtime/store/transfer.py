"""Knobs of registry transfers, and the two helpers they share: backoff and a rate limit."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

MB = 1000 * 1000


@dataclass(frozen=True, slots=True)
class TransferOptions:
    """How pull and push move blobs. Defaults are Ollama's."""

    #: parts of one blob fetched at once
    max_parts: int = 16
    #: a blob is cut into ``size / max_parts`` byte parts, clamped to these bounds
    min_part_size: int = 100 * MB
    max_part_size: int = 1000 * MB
    #: bytes read from the socket (and written to the -partial file) at a time
    chunk_size: int = 1 << 20
    #: part progress is made durable (fsync + part state file) at least every this many bytes
    checkpoint_size: int = 8 << 20
    #: attempts after a failed request, waiting backoff * 2**n seconds (at most max_backoff)
    retries: int = 6
    backoff: float = 1.0
    max_backoff: float = 30.0
    #: no byte for this long: the request is dropped and retried without counting as a failure
    stall_timeout: float = 30.0
    max_stalls: int = 10
    connect_timeout: float = 30.0
    #: PATCH size when pushing
    upload_chunk_size: int = 100 * MB
    #: bytes per second for all parts together; None: unlimited
    max_rate: int | None = None

    def part_size(self, total: int) -> int:
        return max(self.min_part_size, min(self.max_part_size, -(-total // self.max_parts)))

    def delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** max(0, attempt - 1))


class RateLimiter:
    """Paces callers so that together they consume at most ``rate`` bytes a second."""

    def __init__(self, rate: int | None) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def consume(self, n: int) -> None:
        if not self.rate:
            return
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now)
            self._next = start + n / self.rate
            wait = self._next - now
        if wait > 0:
            time.sleep(wait)
