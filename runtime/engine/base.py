"""The engine interface and the messages that cross it."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from ..chat import ChatTemplate
from ..info import ModelInfo
from ..options import ResolvedOptions

#: the host backend's name: the only one the llama-server child runs models on
HOST_BACKEND = "cpu"


class EngineRequest(msgspec.Struct, kw_only=True):
    """One generation: prompt tokens and fully resolved options. ``logprobs`` >= 0 asks for each
    generated token's log-probability and that many most likely alternatives (-1: none)."""

    prompt: list[int]
    options: ResolvedOptions
    grammar: str | None = None
    logprobs: int = -1
    #: at a full context: shift it (drop the oldest tokens after ``num_keep``) and go on, as
    #: Ollama's ``shift`` (default true); False ends the generation with done_reason "length"
    shift: bool = True


class TokenLogprob(msgspec.Struct, array_like=True, gc=False):
    """One generated token: its bytes, its log-probability under the model (log-softmax of the
    logits at its position, before any sampler), and the ``top`` alternatives, best first, as
    (token, bytes, logprob)."""

    token: int
    piece: bytes
    logprob: float
    top: list[tuple[int, bytes, float]]


class Piece(msgspec.Struct, array_like=True, gc=False):
    """Generated text, streamed as it is released, with the logprobs of the tokens sampled since
    the previous piece when they were asked for."""

    text: str
    logprobs: list[TokenLogprob] | None = None


class Final(msgspec.Struct, kw_only=True, gc=False):
    """The last message of a generation, with Ollama's counters (durations in ns)."""

    done_reason: str
    prompt_eval_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int
    tokens: list[int]
    #: logprobs of tokens not yet sent with a Piece (held-back text, the end of generation)
    logprobs: list[TokenLogprob] | None = None
    #: tokens dropped from the context by context shifts (never silent: the API reports it)
    shifted: int = 0


class Engine(abc.ABC):
    """A loaded model that serves generations, embeddings and tokenization."""

    kind: str
    #: why this kind of engine runs this model (logs, /api/ps, doctor)
    reason: str = ""
    info: ModelInfo
    #: tokens of context each sequence may use
    num_ctx: int
    num_parallel: int

    @abc.abstractmethod
    def generate(self, request: EngineRequest) -> AsyncIterator[Piece | Final]:
        """Stream Pieces then one Final. Cancelling the consumer cancels the sequence."""

    @abc.abstractmethod
    async def embed(self, texts: list[str], *, truncate: bool = True,
                    normalized: bool = True) -> tuple[list[list[float]], int]:
        """Vectors and the number of prompt tokens used."""

    @abc.abstractmethod
    async def tokenize(self, text: str) -> list[int]:
        """Prompt tokens as llama-server makes them (specials added and parsed, one BOS)."""

    @abc.abstractmethod
    async def detokenize(self, tokens: list[int]) -> str: ...

    #: the model's chat template (``Lease.render`` applies it, or a Modelfile's)
    template: ChatTemplate

    @property
    def alive(self) -> bool:
        """False once the engine cannot serve any more (e.g. its child process died)."""
        return True

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Sizes and state for /api/ps and logs."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop serving, fail pending requests, free everything. Idempotent."""
