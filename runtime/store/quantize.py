"""Quantize a GGUF in-process with ``llama_model_quantize``, reporting progress per tensor.

llama.cpp logs ``[  12/ 272] blk.0.attn_q.weight …`` for each tensor it writes; while a
quantization runs, a filter on the ``llmrt.llama`` logger reads those lines (and swallows the ones
the logger would not have shown anyway).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import LlmrtError
from .progress import Progress

_TENSOR = re.compile(r"\s*\[\s*(\d+)\s*/\s*(\d+)\s*\]")
_llama_log = logging.getLogger("llmrt.llama")


def supported_types() -> list[str]:
    from .._bindings.quantize import FTYPES

    return sorted(FTYPES)


def check_type(qtype: str) -> str:
    """The canonical (upper-case, Ollama-style) name of a quantization type, or QuantizeError."""
    from .._bindings.quantize import FTYPES, QuantizeError

    if qtype.lower() not in FTYPES:
        raise QuantizeError(f"unsupported quantization type {qtype!r}; supported: "
                            f"{', '.join(t.upper() for t in sorted(FTYPES))}")
    return qtype.upper()


class _TensorTap(logging.Filter):
    """Reads ``[ i/ n]`` from the llama logger for the threads that are quantizing."""

    def __init__(self) -> None:
        super().__init__()
        self.threshold = logging.WARNING
        self.saved_level = logging.NOTSET
        self.progress: dict[int, tuple[int, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread in self.progress and (m := _TENSOR.match(record.getMessage())):
            self.progress[record.thread] = (int(m.group(1)), int(m.group(2)))
        return record.levelno >= self.threshold


_tap = _TensorTap()
_tap_lock = threading.Lock()


def _listen(thread_id: int) -> None:
    with _tap_lock:
        if not _tap.progress:
            _tap.saved_level = _llama_log.level
            _tap.threshold = _llama_log.getEffectiveLevel()
            _llama_log.addFilter(_tap)
            _llama_log.setLevel(min(logging.INFO, _tap.threshold))
        _tap.progress[thread_id] = (0, 0)


def _unlisten(thread_id: int) -> None:
    with _tap_lock:
        _tap.progress.pop(thread_id, None)
        if not _tap.progress:
            _llama_log.removeFilter(_tap)
            _llama_log.setLevel(_tap.saved_level)


def quantize(src: Path, dst: Path, qtype: str, *, status: str,
             poll: float = 0.25) -> Iterator[Progress]:
    """Quantize ``src`` into ``dst``; yield ``status`` records with tensors done / total."""
    from .._bindings.quantize import quantize as llama_quantize

    check_type(qtype)
    failure: list[BaseException] = []
    started = threading.Event()

    def run() -> None:
        _listen(threading.get_ident())
        started.set()
        try:
            llama_quantize(str(src), str(dst), qtype)
        except BaseException as exc:  # handed to the generator's thread
            failure.append(exc)

    worker = threading.Thread(target=run, name="llmrt-quantize", daemon=True)
    worker.start()
    started.wait()
    ident = worker.ident or 0
    total, seen = 0, -1
    try:
        yield Progress(status)
        while worker.is_alive():
            worker.join(poll)
            done, total = _tap.progress.get(ident, (0, 0))
            if done != seen and total:
                seen = done
                yield Progress(status, total=total, completed=done)
    finally:
        worker.join()
        _unlisten(ident)
    if failure:
        exc = failure[0]
        if isinstance(exc, LlmrtError):
            raise exc
        raise LlmrtError(f"quantizing to {qtype} failed: {exc}") from exc
    if total and seen != total:
        yield Progress(status, total=total, completed=total)
