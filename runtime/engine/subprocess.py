"""The subprocess engine: a llama-server child (same pinned build) per loaded model.

Used when the in-process extension cannot be imported, when a model fails to load in-process
for a reason a separate process can survive, or when asked for (``LLMRT_ENGINE=subprocess``).
Requests map to llama-server's ``/completion`` (streamed) with our prompt tokens and sampling
options; its answers map back to the same Piece/Final messages as the in-process engine. The
child's log goes to ours. If the child dies, the request in flight fails, ``alive`` turns False
and the scheduler starts a new child for the next request. Closing ends the child: no orphans.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx
from llmrt.backends.host import physical_cores

from ..adapters import check_lora
from ..chat import template_for
from ..errors import BackendError, ContextOverflow, LlmrtError, ModelLoadError
from ..gguf import read_header
from ..info import ModelInfo
from ..native import tool
from ..vectors import normalize
from .base import HOST_BACKEND, Engine, EngineRequest, Final, Piece

log = logging.getLogger("llmrt.engine.subprocess")
START_TIMEOUT_S = 300.0


class EngineDied(LlmrtError):
    """The llama-server child exited."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Child:
    """One llama-server process on a free loopback port, its stderr piped into our log."""

    def __init__(self, args: list[str], name: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [str(tool("llama-server")), *args, "--host", "127.0.0.1", "--port",
               str(self.port), "--no-webui", "--offline"]
        log.info("starting %s", " ".join(cmd))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self._pump = threading.Thread(target=self._log_stderr, daemon=True,
                                      name=f"llama-server-log-{name}")
        self._pump.start()

    def _log_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                log.debug("llama-server[%d]: %s", self.proc.pid, line)

    def wait_healthy(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as c:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise ModelLoadError(f"llama-server exited with {self.proc.returncode} while "
                                         "loading the model")
                try:
                    if c.get(self.url + "/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise ModelLoadError(f"llama-server was not healthy after {timeout:.0f}s")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._pump.join(5)
        if self.proc.stderr:
            self.proc.stderr.close()


class SubprocessEngine(Engine):
    kind = "subprocess"

    def __init__(self, model_path: str | Path, *, num_ctx: int = 4096, num_parallel: int = 4,
                 num_batch: int = 512, num_thread: int | None = None,
                 flash_attn: bool | None = None, n_gpu_layers: int | None = None,
                 use_mmap: bool = True, backend: str | None = None,
                 adapters: Sequence[tuple[str, float]] = ()) -> None:
        """``adapters``: (GGUF LoRA path, scale) pairs, passed on as ``--lora-scaled P:S``."""
        if backend and backend != HOST_BACKEND:
            raise BackendError(f"backend {backend!r} runs only in the in-process engine; the "
                               f"llama-server child runs models on the {HOST_BACKEND} backend")
        self.path = str(model_path)
        self.num_parallel = max(1, num_parallel)
        self._threads = num_thread or physical_cores()
        self._common = ["-m", self.path, "-t", str(self._threads), "-b", str(num_batch),
                        "-ngl", str(n_gpu_layers or 0)]
        if flash_attn is not None:
            self._common += ["-fa", "on" if flash_attn else "off"]
        if not use_mmap:
            self._common.append("--no-mmap")
        for lora, scale in adapters:
            check_lora(lora, self.path)  # llama-server would only log why it refuses one
            self._common += ["--lora-scaled", f"{lora}:{scale}"]
        self._embed_child: _Child | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._child = _Child([*self._common, "-c", str(max(4, num_ctx) * self.num_parallel),
                              "-np", str(self.num_parallel), "--kv-unified"],
                             Path(self.path).name)
        try:
            self._child.wait_healthy()
            props = httpx.get(self._child.url + "/props", timeout=10).json()
        except BaseException:
            self._child.stop()
            raise
        settings = props.get("default_generation_settings", {})
        n_ctx_train = int(props.get("model_n_ctx_train") or settings.get("n_ctx") or num_ctx)
        self.num_ctx = max(4, min(num_ctx, n_ctx_train))
        meta = _read_gguf_info(self.path)
        self.info = ModelInfo(
            path=self.path, description=str(props.get("model_alias") or Path(self.path).name),
            architecture=meta.get("general.architecture", ""),
            quantization=meta.get("quantization", ""), n_ctx_train=n_ctx_train,
            n_embd=int(props.get("model_n_embd") or 0), n_layer=0, n_head=0, n_head_kv=0,
            size=os.path.getsize(self.path), n_params=int(props.get("model_n_params") or 0),
            has_encoder=False)
        # the GGUF's own template (or our fallback for its architecture), as in-process
        self.template = template_for(meta.get("chat_template"), self.info.architecture,
                                     bos_token=props.get("bos_token", ""),
                                     eos_token=props.get("eos_token", ""))
        self._http = httpx.AsyncClient(base_url=self._child.url,
                                       timeout=httpx.Timeout(None, connect=10))

    @property
    def alive(self) -> bool:
        return not self._closed and self._child.alive

    async def generate(self, request: EngineRequest) -> AsyncIterator[Piece | Final]:
        if len(request.prompt) >= self.num_ctx:
            raise ContextOverflow(f"the prompt is {len(request.prompt)} tokens; the context "
                                  f"holds {self.num_ctx} (raise num_ctx)")
        o = request.options
        body: dict[str, Any] = {
            "prompt": request.prompt, "stream": True, "cache_prompt": True,
            "n_predict": o.num_predict if o.num_predict >= 0 else self.num_ctx,
            "temperature": o.temperature, "top_k": o.top_k, "top_p": o.top_p,
            "min_p": o.min_p, "typical_p": o.typical_p, "repeat_penalty": o.repeat_penalty,
            "repeat_last_n": o.repeat_last_n, "presence_penalty": o.presence_penalty,
            "frequency_penalty": o.frequency_penalty, "stop": o.stop,
            "seed": o.seed & 0xFFFFFFFF, "return_tokens": True,
            "samplers": ["penalties", "top_k", "typ_p", "top_p", "min_p", "temperature"],
        }
        if request.grammar:
            body["grammar"] = request.grammar
        tokens: list[int] = []
        try:
            async with self._http.stream("POST", "/completion", json=body) as r:
                if r.status_code != 200:
                    detail = (await r.aread()).decode("utf-8", "replace")
                    raise LlmrtError(f"llama-server answered {r.status_code}: {detail[:500]}")
                async for line in r.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    rec = json.loads(line[6:])
                    tokens.extend(rec.get("tokens") or [])
                    if rec.get("content"):
                        yield Piece(rec["content"])
                    if rec.get("stop"):
                        yield _final(rec, tokens)
                        return
        except (httpx.TransportError, httpx.RemoteProtocolError) as exc:
            if not self._child.alive:
                raise EngineDied(f"llama-server exited with {self._child.proc.returncode} "
                                 "during the request") from exc
            raise LlmrtError(f"llama-server connection failed: {exc}") from exc
        if not self._child.alive:
            raise EngineDied("llama-server exited during the request")
        raise LlmrtError("llama-server ended the stream without a final record")

    async def embed(self, texts: list[str], *, truncate: bool = True,
                    normalized: bool = True) -> tuple[list[list[float]], int]:
        child = await anyio.to_thread.run_sync(self._embedding_child)
        body = {"input": texts, "encoding_format": "float"}
        async with httpx.AsyncClient(base_url=child.url, timeout=None) as c:
            r = await c.post("/v1/embeddings", json=body)
        if r.status_code != 200:
            raise LlmrtError(f"llama-server embeddings failed: {r.text[:300]}")
        data = r.json()
        vectors = [d["embedding"] for d in sorted(data["data"], key=lambda d: d["index"])]
        if normalized:  # the embedding child returns raw vectors (--embd-normalize -1)
            vectors = [normalize(v) for v in vectors]
        return vectors, int(data.get("usage", {}).get("prompt_tokens", 0))

    def _embedding_child(self) -> _Child:
        with self._lock:
            if self._embed_child is None or not self._embed_child.alive:
                child = _Child([*self._common, "-c", str(min(self.num_ctx, 8192)),
                                "-b", str(min(self.num_ctx, 8192)),
                                "-ub", str(min(self.num_ctx, 8192)), "-np", "1", "--embeddings",
                                "--pooling", "mean", "--embd-normalize", "-1"],
                               Path(self.path).name + "-embed")
                child.wait_healthy()
                self._embed_child = child
            return self._embed_child

    async def tokenize(self, text: str) -> list[int]:
        r = await self._http.post("/tokenize", json={"content": text, "add_special": True,
                                                     "parse_special": True})
        return r.json()["tokens"]

    async def detokenize(self, tokens: list[int]) -> str:
        r = await self._http.post("/detokenize", json={"tokens": tokens})
        return r.json()["content"]

    def stats(self) -> dict[str, Any]:
        return {"engine": self.kind, "num_ctx": self.num_ctx, "num_parallel": self.num_parallel,
                "pid": self._child.proc.pid, "alive": self.alive, "size": self.info.size,
                "n_threads": self._threads}

    @property
    def pids(self) -> list[int]:
        out = [self._child.proc.pid]
        if self._embed_child is not None:
            out.append(self._embed_child.proc.pid)
        return out

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._http.aclose()
        await anyio.to_thread.run_sync(self._stop_children)

    def _stop_children(self) -> None:
        self._child.stop()
        if self._embed_child is not None:
            self._embed_child.stop()


def _final(rec: dict[str, Any], tokens: list[int]) -> Final:
    timings = rec.get("timings", {})
    stop_type = rec.get("stop_type", "")
    return Final(
        done_reason="length" if stop_type == "limit" else "stop",
        prompt_eval_count=int(timings.get("prompt_n", rec.get("tokens_evaluated", 0))),
        prompt_eval_duration=int(timings.get("prompt_ms", 0) * 1e6),
        eval_count=int(timings.get("predicted_n", rec.get("tokens_predicted", 0))),
        eval_duration=int(timings.get("predicted_ms", 0) * 1e6),
        tokens=list(tokens))


def _read_gguf_info(path: str) -> dict[str, str]:
    """Architecture and quantization from the GGUF header, without llama.cpp."""
    info = read_header(path)
    out = {"general.architecture": info.architecture, "quantization": info.file_type}
    if isinstance(info.get("tokenizer.chat_template"), str):
        out["chat_template"] = info.get("tokenizer.chat_template")
    return out
