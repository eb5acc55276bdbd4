"""LLM: the in-process library facade: load a model once, then generate, chat, embed.

    import llmrt
    with llmrt.load("smollm2:135m") as llm:
        print(llm.generate("Why is the sky blue?", num_predict=32).text)
        for piece in llm.chat([{"role": "user", "content": "Hi"}], stream=True):
            print(piece, end="")
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from . import loader
from .chat import template_of
from .context import Context
from .embed import embed, pooling_for
from .generate import Generation, GenerationResult, Session
from .options import Options


class LLM:
    """A model with one generation context (and an embedding context made on first use)."""

    def __init__(self, model: str | os.PathLike[str], *, num_ctx: int = 4096,
                 num_batch: int = 512, num_thread: int | None = None,
                 flash_attn: bool | None = None, backend: str | None = None,
                 **defaults: Any) -> None:
        """``backend`` names the backend plugin to run on (``"vulkan"``, ``"cpu"``); None
        leaves it to ``LLMRT_BACKEND``, else the automatic choice."""
        t0 = time.perf_counter_ns()
        self.model = loader.open_model(loader.resolve(model).path, num_ctx=num_ctx,
                                       backend=backend)
        try:
            self.ctx = Context(self.model, n_ctx=min(num_ctx, self.model.info.n_ctx_train),
                               n_batch=num_batch, n_threads=num_thread, flash_attn=flash_attn)
        except BaseException:
            self.model.close()
            raise
        self.session = Session(self.ctx)
        self.defaults = Options.from_dict(defaults)
        self.load_duration = time.perf_counter_ns() - t0
        self._embed_ctx: Context | None = None
        self._lock = threading.Lock()
        self.template = template_of(self.model)

    def tokenize(self, text: str) -> list[int]:
        """Tokens of a prompt as llama-server tokenizes it (specials added and parsed)."""
        return self.model.tokenizer.encode_prompt(text)

    def generate(self, prompt: str, *, stream: bool = False, grammar: str | None = None,
                 cancel: threading.Event | None = None, options: dict[str, Any] | None = None,
                 **opts: Any) -> GenerationResult | Generation:
        """Complete ``prompt``. ``stream=True`` returns an iterator of text pieces whose
        ``.result`` is filled at the end; otherwise the finished GenerationResult."""
        merged = self.defaults.merge(Options.from_dict({**(options or {}), **opts})).resolved()
        gen = self.session.generate(self.tokenize(prompt), merged, grammar=grammar,
                                    cancel=cancel)
        if stream:
            return gen
        for _ in gen:
            pass
        return gen.result

    def render(self, messages: list[dict[str, Any]], **kw: Any) -> str:
        return self.template.render(messages, add_generation_prompt=True, **kw)

    def chat(self, messages: list[dict[str, Any]], *, stream: bool = False,
             **kw: Any) -> GenerationResult | Generation:
        return self.generate(self.render(messages), stream=stream, **kw)

    def embed(self, texts: str | list[str], *, normalized: bool = True,
              truncate: bool = True) -> list[list[float]]:
        items = [texts] if isinstance(texts, str) else list(texts)
        with self._lock:
            if self._embed_ctx is None:
                self._embed_ctx = Context(self.model, n_ctx=min(2048, self.ctx.n_ctx),
                                          n_batch=min(2048, self.ctx.n_ctx), embeddings=True,
                                          pooling=pooling_for(self.model.metadata),
                                          n_threads=self.ctx.n_threads)
            vectors, _ = embed(self._embed_ctx, items, normalized=normalized, truncate=truncate)
        return vectors

    def close(self) -> None:
        self.session.close()
        self.model.close()  # closes its contexts first

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load(model: str | os.PathLike[str], **kw: Any) -> LLM:
    """Load a GGUF path or a model name: one in the store (``llmrt list``), or a bundled one
    (``smollm2:135m``, ``gemma3:270m``, imported into the store on first use)."""
    return LLM(model, **kw)
