"""One base for every class that owns a C handle: idempotent close, with-blocks, GC safety net."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Self


class Owner:
    """Owns exactly one C handle. ``close()`` frees it once; later calls do nothing.

    A finalizer frees the handle if the owner is garbage-collected without ``close()``.
    """

    _handle: Any = None
    _finalizer: weakref.finalize | None = None
    _dependents: weakref.WeakSet[Owner] | None = None

    def _own(self, handle: Any, free: Callable[[Any], None]) -> None:
        self._handle = handle
        self._finalizer = weakref.finalize(self, free, handle)

    def _depends_on(self, parent: Owner) -> None:
        """Close self before ``parent`` frees its handle (a context before its model)."""
        if parent._dependents is None:
            parent._dependents = weakref.WeakSet()
        parent._dependents.add(self)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def _live(self) -> Any:
        h = self._handle
        if h is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return h

    def close(self) -> None:
        if self._dependents is not None:
            for child in list(self._dependents):
                child.close()
        if self._finalizer is not None:
            self._finalizer()  # runs free(handle) at most once
        self._handle = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
