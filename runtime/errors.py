"""Every error llmrt raises, in one tree.

    LlmrtError
    ├── NativeBuildError        the compiled module is missing or from another llama.cpp build
    ├── BackendError            no usable ggml backend / a backend library failed to load
    ├── ModelLoadError          missing, truncated or non-GGUF file; llama.cpp refused it
    ├── ContextError            a context could not be created (size, memory)
    ├── TokenizeError           text could not be tokenized / tokens not detokenized
    ├── DecodeError             llama_decode failed (KV cache full, compute error)
    ├── ContextOverflow         the prompt does not fit the context window
    ├── SamplerError            invalid sampler options, bad grammar
    ├── TemplateError           the chat template failed to render
    ├── ModelNotFound           a model name that the store/bundled list does not know
    └── Cancelled               a generation stopped because its caller cancelled it

C results are checked in one place, llmrt.runtime._bindings._lib.check*, which raises these.
"""

from __future__ import annotations


class LlmrtError(Exception):
    """Base of every llmrt error."""


class NativeBuildError(LlmrtError, ImportError):
    """The compiled extension is missing or does not match the pinned llama.cpp."""


class BackendError(LlmrtError):
    """A ggml backend could not be chosen or loaded."""


class ModelLoadError(LlmrtError):
    """A model file could not be loaded."""


class ContextError(LlmrtError):
    """A llama context could not be created."""


class TokenizeError(LlmrtError):
    """Tokenization or detokenization failed."""


class DecodeError(LlmrtError):
    """llama_decode reported an error."""


class ContextOverflow(DecodeError):
    """The input does not fit in the context window."""


class SamplerError(LlmrtError, ValueError):
    """A sampler chain could not be built from the given options."""


class TemplateError(LlmrtError, ValueError):
    """A chat template failed to render."""


class ModelNotFound(LlmrtError, LookupError):
    """No model of that name is known."""


class Cancelled(LlmrtError):
    """The operation was cancelled by its caller."""
