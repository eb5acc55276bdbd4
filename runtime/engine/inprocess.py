"""The in-process engine: one thread owns the llama context and batches every live sequence.

Each step the thread admits waiting requests into free slots (preferring the slot whose cached
tokens share the longest prefix with the new prompt), puts one token of every generating sequence
plus prompt chunks of the others into a single ``llama_decode`` batch, samples each sequence with
its own sampler chain and hands the released text back to the event loop. The event loop never
runs a llama call; results cross over once per step with ``call_soon_threadsafe`` into each
request's anyio memory object stream. A request whose consumer goes away is dropped (its KV cells
freed) at the start of the next step; if its prompt is being decoded at that moment, the decode is
stopped through llama.cpp's abort callback (a long prompt's prefill does not run to its end for a
client that has left), and the other sequences of that batch are decoded again next step.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from ..batch import Batch
from ..chat import template_of
from ..context import Context
from ..embed import embed as run_embed
from ..embed import pooling_for
from ..errors import Cancelled, ContextOverflow, LlmrtError
from ..lora import LoraAdapter
from ..model import Model
from ..sequence import Sequence
from .base import Engine, EngineRequest, Final, Piece

if TYPE_CHECKING:
    from llmrt.backends import LoadPlan

log = logging.getLogger("llmrt.engine")
_Item = Piece | Final | BaseException
#: pieces a slow reader may fall behind before its request is cancelled
STREAM_BUFFER = 4096


@dataclass(eq=False)
class _Job:
    request: EngineRequest
    send: MemoryObjectSendStream[_Item]
    loop: asyncio.AbstractEventLoop
    cancelled: bool = False


@dataclass(eq=False)
class _EmbedJob:
    texts: list[str]
    truncate: bool
    normalized: bool
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


@dataclass(eq=False)
class _Slot:
    seq_id: int
    cached: list[int] = field(default_factory=list)  # tokens whose KV cells this slot holds
    job: _Job | None = None
    seq: Sequence | None = None
    pending: list[int] = field(default_factory=list)  # prompt tokens not yet decoded
    out_idx: int = -1  # batch index of this slot's output in the current step
    n_prompt: int = 0
    t_prompt: int = 0
    t_gen_start: int = 0
    # what the slot held before this step added its tokens: restored when the decode is aborted
    step_from: int = 0
    step_pending: list[int] = field(default_factory=list)
    shifted: int = 0  # tokens dropped by context shifts for the current job

    @property
    def busy(self) -> bool:
        return self.job is not None


class InProcessEngine(Engine):
    kind = "inprocess"

    def __init__(self, model_path: str | Path, *, num_ctx: int = 4096, num_parallel: int = 4,
                 num_batch: int = 512, num_thread: int | None = None,
                 flash_attn: bool | None = None, n_gpu_layers: int | None = None,
                 use_mmap: bool = True, placement: LoadPlan | None = None,
                 adapters: Iterable[tuple[str, float]] = ()) -> None:
        """Load the model where ``placement`` (the loader's plan; None: the host) puts it;
        ``n_gpu_layers`` None takes the plan's; ``adapters``: (GGUF LoRA path, scale) pairs
        applied to every context of this engine."""
        self.num_parallel = max(1, num_parallel)
        if n_gpu_layers is None:
            n_gpu_layers = placement.n_gpu_layers if placement is not None else 0
        self.model = Model(model_path, n_gpu_layers=n_gpu_layers, use_mmap=use_mmap,
                           devices=placement.devices if placement is not None else (),
                           placement=placement)
        try:
            self.num_ctx = max(4, min(num_ctx, self.model.info.n_ctx_train))
            self.ctx = Context(self.model, n_ctx=self.num_ctx * self.num_parallel,
                               n_batch=num_batch, n_seq_max=self.num_parallel,
                               n_threads=num_thread, flash_attn=flash_attn, kv_unified=True)
            self.adapters = [LoraAdapter(self.model, p, s) for p, s in adapters]
            self.ctx.set_adapters(self.adapters)
            self.batch = Batch(self.ctx.n_batch, 1)
        except BaseException:
            self.model.close()
            raise
        self.info = self.model.info
        self.template = template_of(self.model)
        self._slots = [_Slot(i) for i in range(self.num_parallel)]
        self._inbox: deque[_Job | _EmbedJob] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._closed = False
        self._embed_ctx: Context | None = None
        self._outbox: list[tuple[_Job, _Item]] = []
        #: jobs whose prompt tokens are in the llama_decode running now (engine thread writes)
        self._decoding: frozenset[_Job] = frozenset()
        self.steps = 0
        self.aborted_decodes = 0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"llmrt-engine-{Path(model_path).name}")
        self._thread.start()

    # ---- the event-loop side ------------------------------------------------------------

    async def generate(self, request: EngineRequest) -> AsyncIterator[Piece | Final]:
        if not request.prompt:
            raise ValueError("empty prompt")
        if len(request.prompt) >= self.num_ctx:
            raise ContextOverflow(f"the prompt is {len(request.prompt)} tokens; the context "
                                  f"holds {self.num_ctx} (raise num_ctx)")
        send, recv = anyio.create_memory_object_stream[_Item](STREAM_BUFFER)
        job = _Job(request, send, asyncio.get_running_loop())
        self._submit(job)
        try:
            async with recv:
                async for item in recv:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
                    if isinstance(item, Final):
                        return
        finally:
            send.close()  # idempotent; on the loop, where the stream lives
            if not job.cancelled:
                self._cancel(job)

    async def embed(self, texts: list[str], *, truncate: bool = True,
                    normalized: bool = True) -> tuple[list[list[float]], int]:
        loop = asyncio.get_running_loop()
        job = _EmbedJob(texts, truncate, normalized, loop.create_future(), loop)
        self._submit(job)
        return await job.future

    async def tokenize(self, text: str) -> list[int]:
        return await anyio.to_thread.run_sync(self.model.tokenizer.encode_prompt, text)

    async def detokenize(self, tokens: list[int]) -> str:
        return await anyio.to_thread.run_sync(self.model.tokenizer.detokenize, tokens)

    def stats(self) -> dict[str, Any]:
        """``size_vram``: the weights on offload devices, comparable with ``size``."""
        plan = self.model.placement
        return {"engine": self.kind, "num_ctx": self.num_ctx, "num_parallel": self.num_parallel,
                "busy_slots": sum(s.busy for s in self._slots), "queued": len(self._inbox),
                "steps": self.steps, "aborted_decodes": self.aborted_decodes,
                "size": self.info.size, "n_threads": self.ctx.n_threads,
                "backend": plan.selection.backend if plan is not None else "cpu",
                "n_gpu_layers": self.model.n_gpu_layers if self.model.devices else 0,
                "size_vram": self.model.offloaded_bytes}

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self._shutdown)

    def _submit(self, job: _Job | _EmbedJob) -> None:
        with self._cond:
            if self._stopping:
                raise LlmrtError("the model is being unloaded")
            self._inbox.append(job)
            self._cond.notify()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def _cancel(self, job: _Job) -> None:
        """The consumer is gone (any thread): drop the job next step, and stop the running
        decode now if it is evaluating this job's prompt."""
        job.cancelled = True
        if job in self._decoding:
            self.ctx.abort()
        self._wake()

    def _shutdown(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._stopping = True
            self._cond.notify()
        self._thread.join()
        self.batch.close()
        self.model.close()  # closes its contexts and sampler chains first
        self._closed = True

    # ---- the engine thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._wait_for_work():
                self._admit()
                if any(s.busy for s in self._slots):
                    self._step()
                self._flush()
        except BaseException as exc:  # never die silently: fail everything that waits
            log.exception("engine thread failed")
            self._fail_all(exc)
            return
        self._fail_all(LlmrtError("the model was unloaded"))

    def _wait_for_work(self) -> bool:
        with self._cond:
            while not self._stopping and not self._inbox and not any(s.busy for s in self._slots):
                self._cond.wait()
            return not self._stopping

    def _admit(self) -> None:
        """Move waiting jobs into free slots; run embedding jobs now."""
        while True:
            with self._cond:
                if not self._inbox:
                    return
                job = self._inbox[0]
                if isinstance(job, _EmbedJob):
                    self._inbox.popleft()
                else:
                    if job.cancelled:
                        self._inbox.popleft()
                        continue
                    slot = self._pick_slot(job.request.prompt)
                    if slot is None:
                        return
                    self._inbox.popleft()
            if isinstance(job, _EmbedJob):
                self._run_embed(job)
            elif slot is not None:
                self._start(slot, job)

    def _pick_slot(self, prompt: list[int]) -> _Slot | None:
        free = [s for s in self._slots if not s.busy]
        if not free:
            return None
        return max(free, key=lambda s: (_common_prefix(s.cached, prompt), -len(s.cached)))

    def _start(self, slot: _Slot, job: _Job) -> None:
        req = job.request
        try:
            seq = Sequence(self.model, req.options, n_ctx=self.num_ctx, grammar=req.grammar,
                           logprobs=req.logprobs)
        except LlmrtError as exc:
            self._emit(job, exc)
            return
        n = min(_common_prefix(slot.cached, req.prompt), len(req.prompt) - 1)
        if n < len(slot.cached) and not self.ctx.seq_rm(slot.seq_id, n, -1):
            self.ctx.seq_rm(slot.seq_id, -1, -1)
            n = 0
        slot.cached = slot.cached[:n]
        slot.job, slot.seq = job, seq
        slot.pending = req.prompt[n:]
        slot.n_prompt = len(slot.pending)
        slot.t_prompt = 0
        slot.t_gen_start = 0
        slot.shifted = 0
        seq.accept_prompt(req.prompt)
        log.info("slot %d: %d prompt tokens, %d reused from the cache", slot.seq_id,
                 len(req.prompt), n)

    def _step(self) -> None:
        for slot in self._slots:
            if slot.job is not None and slot.job.cancelled:
                self._release(slot, forget=True)
        self.batch.clear()
        budget = self.ctx.n_batch
        prefilling = []
        for slot in self._slots:  # generating sequences first: one token each
            slot.out_idx = -1
            slot.step_from, slot.step_pending = len(slot.cached), slot.pending
            if slot.seq is not None and not slot.pending:
                last = slot.seq.tokens[-1]
                slot.out_idx = self.batch.add(last, len(slot.cached), slot.seq_id, True)
                slot.cached.append(last)
                budget -= 1
        for slot in self._slots:  # then prompt chunks with what is left
            if slot.seq is not None and slot.pending and budget > 0:
                chunk = slot.pending[:budget]
                done = len(chunk) == len(slot.pending)
                idx = self.batch.add_run(chunk, len(slot.cached), slot.seq_id, last_output=done)
                slot.out_idx = idx if done else -1
                slot.cached.extend(chunk)
                slot.pending = slot.pending[len(chunk):]
                budget -= len(chunk)
                prefilling.append(slot)
        if len(self.batch) == 0:
            return
        t0 = time.perf_counter_ns()
        self.ctx.clear_abort()
        self._decoding = frozenset(s.job for s in prefilling if s.job is not None)
        try:
            self.ctx.decode(self.batch)
        except Cancelled:
            self._decoding = frozenset()
            self._aborted()
            return
        except LlmrtError as exc:
            self._decoding = frozenset()
            for slot in self._slots:
                if slot.job is not None and (slot.out_idx >= 0 or slot in prefilling):
                    self._emit(slot.job, exc)
                    self._release(slot, forget=True)
            self.ctx.clear_abort()
            return
        self._decoding = frozenset()
        t1 = time.perf_counter_ns()
        self.steps += 1
        for slot in prefilling:
            slot.t_prompt += t1 - t0
        for slot in self._slots:
            job, seq = slot.job, slot.seq
            if slot.out_idx < 0 or job is None or seq is None:
                continue
            if slot.t_gen_start == 0:
                slot.t_gen_start = t1
            text = seq.push(seq.sample(self.ctx, slot.out_idx))
            # llama-server's rule: shift before the next token would fill the last cell
            if seq.done_reason is None and job.request.shift and \
                    len(slot.cached) + 1 >= self.num_ctx:
                self._shift(slot, job.request.options.num_keep)
            if seq.done_reason is None and len(slot.cached) >= self.num_ctx:
                text += seq.finish("length")
            if text:
                self._emit(job, Piece(text, seq.take_logprobs()))
            if seq.done_reason is not None:
                self._emit(job, Final(
                    done_reason=seq.done_reason, prompt_eval_count=slot.n_prompt,
                    prompt_eval_duration=slot.t_prompt, eval_count=len(seq.tokens),
                    eval_duration=time.perf_counter_ns() - slot.t_gen_start,
                    tokens=list(seq.tokens), logprobs=seq.take_logprobs(),
                    shifted=slot.shifted))
                self._release(slot, forget=False)

    def _shift(self, slot: _Slot, num_keep: int) -> bool:
        """The slot's context is full: keep its first ``num_keep`` tokens (and the BOS), drop
        half of the rest and continue, as llama-server's --context-shift --keep does. False
        where the memory cannot shift (e.g. a sliding-window cache)."""
        keep = min(max(0, num_keep) + int(self.model.tokenizer.add_bos), self.num_ctx // 2)
        discard = (len(slot.cached) - keep) // 2
        if discard <= 0 or not self.ctx.can_shift:
            return False
        self.ctx.seq_shift(slot.seq_id, keep, discard)
        del slot.cached[keep:keep + discard]
        slot.shifted += discard
        log.info("slot %d: context full (%d tokens): shifted out %d tokens after the first %d",
                 slot.seq_id, self.num_ctx, discard, keep)
        return True

    def _aborted(self) -> None:
        """The decode was stopped for a cancelled job. llama.cpp removed the aborted ubatch's
        cells; remove the rest of this step's too and put every slot back where it was, then
        drop the cancelled jobs: the others are decoded again next step."""
        self.ctx.clear_abort()
        self.aborted_decodes += 1
        for slot in self._slots:
            if slot.job is None or len(slot.cached) == slot.step_from:
                continue
            self.ctx.seq_rm(slot.seq_id, slot.step_from, -1)
            del slot.cached[slot.step_from:]
            slot.pending = slot.step_pending
            slot.out_idx = -1
            if slot.job.cancelled:
                log.info("slot %d: prompt decode stopped for a cancelled request (%d of %d "
                         "prompt tokens were left)", slot.seq_id, len(slot.pending),
                         slot.n_prompt)
                self._release(slot, forget=True)

    def _release(self, slot: _Slot, *, forget: bool) -> None:
        """Free the slot. Finished sequences keep their cells for prefix reuse; the last sampled
        token was never decoded, so the cache stays exactly what the KV holds."""
        if slot.seq is not None:
            slot.seq.close()
        if forget:
            self.ctx.seq_rm(slot.seq_id, -1, -1)
            slot.cached = []
        slot.job = slot.seq = None
        slot.pending = []
        slot.out_idx = -1

    def _run_embed(self, job: _EmbedJob) -> None:
        try:
            if self._embed_ctx is None:
                n = min(self.num_ctx, 8192)
                self._embed_ctx = Context(self.model, n_ctx=n, n_batch=n, embeddings=True,
                                          pooling=pooling_for(self.model.metadata),
                                          n_threads=self.ctx.n_threads)
                self._embed_ctx.set_adapters(self.adapters)
            result: Any = run_embed(self._embed_ctx, job.texts, normalized=job.normalized,
                                    truncate=job.truncate)
            job.loop.call_soon_threadsafe(_settle, job.future, result, None)
        except BaseException as exc:
            job.loop.call_soon_threadsafe(_settle, job.future, None, exc)

    def _emit(self, job: _Job, item: _Item) -> None:
        self._outbox.append((job, item))

    def _flush(self) -> None:
        """Hand this step's results to their event loops: one call per loop per step."""
        if not self._outbox:
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, _Item]]] = {}
        for job, item in self._outbox:
            by_loop.setdefault(job.loop, []).append((job, item))
        self._outbox = []
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:  # that loop is closed: its requests are gone
                for job, _ in items:
                    job.cancelled = True

    def _fail_all(self, exc: BaseException) -> None:
        for slot in self._slots:
            if slot.job is not None:
                self._emit(slot.job, exc)
                slot.job = None
        with self._cond:
            pending = list(self._inbox)
            self._inbox.clear()
        for job in pending:
            if isinstance(job, _EmbedJob):
                job.loop.call_soon_threadsafe(_settle, job.future, None, exc)
            else:
                self._emit(job, exc)
        self._flush()


def _deliver(items: list[tuple[_Job, _Item]]) -> None:
    """Runs on the event loop: push items into their requests' streams."""
    for job, item in items:
        if job.cancelled:
            continue
        try:
            job.send.send_nowait(item)
            if not isinstance(item, Piece):
                job.send.close()
        except anyio.WouldBlock:  # the reader fell STREAM_BUFFER pieces behind
            job.cancelled = True
            job.send.close()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            job.cancelled = True


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
