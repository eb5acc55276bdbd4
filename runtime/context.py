"""Context: owns one ``llama_context`` (KV cache, compute buffers, threads) of a Model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmrt.backends.host import physical_cores

from ._bindings import adapter as _a
from ._bindings import context as _c
from ._owner import Owner
from .batch import Batch

if TYPE_CHECKING:
    from .lora import LoraAdapter
    from .model import Model


class Context(Owner):
    """A llama.cpp context over a Model. ``n_seq_max`` sequences share its ``n_ctx`` cells."""

    def __init__(self, model: Model, *, n_ctx: int = 4096, n_batch: int = 512,
                 n_ubatch: int | None = None, n_seq_max: int = 1, n_threads: int | None = None,
                 n_threads_batch: int | None = None, embeddings: bool = False,
                 pooling: str = "unspecified", flash_attn: bool | None = None,
                 kv_unified: bool = True) -> None:
        self.model = model
        threads = n_threads or physical_cores()
        self._abort_flag = _c.new_abort_flag()
        handle = _c.create(
            model.handle, n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_ubatch or min(n_batch, 512),
            n_seq_max=n_seq_max, n_threads=threads, n_threads_batch=n_threads_batch or threads,
            embeddings=embeddings, pooling=pooling, flash_attn=flash_attn, kv_unified=kv_unified,
            abort_flag=self._abort_flag)
        self._own(handle, _c.free)
        self._depends_on(model)
        sizes = _c.sizes(handle)
        self.n_ctx = sizes["n_ctx"]
        self.n_batch = sizes["n_batch"]
        self.n_seq_max = sizes["n_seq_max"]
        self.n_threads = threads

    @property
    def handle(self) -> object:
        return self._live()

    def set_adapters(self, adapters: list[LoraAdapter]) -> None:
        """Apply exactly these LoRA adapters, each with its scale ([] removes them)."""
        _a.apply(self._live(), [(a.handle, a.scale) for a in adapters])

    def decode(self, batch: Batch) -> None:
        """Run the batch; raises Cancelled if ``abort()`` was called during it."""
        _c.decode(self._live(), batch.handle)

    def abort(self) -> None:
        """Ask the running (or next) decode to stop; safe from any thread."""
        self._abort_flag[0] = 1

    def clear_abort(self) -> None:
        self._abort_flag[0] = 0

    @property
    def abort_requested(self) -> bool:
        return bool(self._abort_flag[0])

    def logits(self, i: int) -> list[float]:
        return _c.logits(self._live(), i, self.model.tokenizer.n_vocab)

    def pooled_embedding(self, seq_id: int) -> list[float]:
        return _c.embeddings_seq(self._live(), seq_id, self.model.info.n_embd)

    @property
    def pooling_type(self) -> int:
        return _c.pooling_type(self._live())

    def seq_rm(self, seq_id: int, p0: int = -1, p1: int = -1) -> bool:
        """Drop cells of ``seq_id`` in [p0, p1) (-1 = open end); -1 seq_id = all sequences."""
        return _c.memory_seq_rm(self._live(), seq_id, p0, p1)

    def seq_shift(self, seq_id: int, keep: int, discard: int) -> None:
        """Context shift: drop ``discard`` cells after the first ``keep`` and move the rest
        back, so the sequence continues in the freed room (llama-server's --context-shift)."""
        h = self._live()
        _c.memory_seq_rm(h, seq_id, keep, keep + discard)
        _c.memory_seq_add(h, seq_id, keep + discard, -1, -discard)

    @property
    def can_shift(self) -> bool:
        return _c.memory_can_shift(self._live())

    def seq_pos_max(self, seq_id: int) -> int:
        return _c.memory_seq_pos_max(self._live(), seq_id)

    def clear(self) -> None:
        _c.memory_clear(self._live())
