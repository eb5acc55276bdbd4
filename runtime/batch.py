"""Batch: owns one ``llama_batch`` of a fixed token capacity."""

from __future__ import annotations

from ._bindings import batch as _b
from ._owner import Owner


class Batch(Owner):
    def __init__(self, capacity: int, n_seq_max: int = 1) -> None:
        self.capacity = capacity
        self._own(_b.new(capacity, n_seq_max), _b.free)

    @property
    def handle(self) -> object:
        return self._live()

    def __len__(self) -> int:
        return _b.size(self._live())

    def clear(self) -> None:
        _b.clear(self._live())

    def add(self, token: int, pos: int, seq_id: int = 0, output: bool = False) -> int:
        """Add one token; return its output index in the batch."""
        if len(self) >= self.capacity:
            raise OverflowError("batch is full")
        return _b.add(self._live(), token, pos, seq_id, output)

    def add_run(self, tokens: list[int], pos0: int, seq_id: int = 0,
                last_output: bool = True) -> int:
        """Add consecutive tokens of one sequence; return the index of the last one."""
        if len(self) + len(tokens) > self.capacity:
            raise OverflowError("batch is full")
        return _b.add_run(self._live(), tokens, pos0, seq_id, last_output)
