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
    ├── TemplateError           the chat template failed to parse or render (names line, column)
    │   └── TemplateBudgetExceeded  a Go template ran past its time or output budget
    ├── ModelNotFound           a model name that the store/bundled list does not know
    ├── Cancelled               a generation stopped because its caller cancelled it
    ├── StoreError              the model store refused or could not complete an operation
    │   ├── InvalidName         not a valid [host/][namespace/]model[:tag] name
    │   ├── InvalidDigest       not a sha256:<64 hex> digest (or a path trying to leave the store)
    │   └── DigestMismatch      bytes whose sha256 is not the digest they claim
    ├── RegistryError           a registry answered with an error or could not be reached
    │   └── RegistryAuthError   the registry refused our credentials / token
    ├── ModelfileError          a Modelfile does not parse; names the line
    └── QuantizeError           an unsupported quantization type, or llama_model_quantize failed

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


class TemplateBudgetExceeded(TemplateError):
    """A Go template's execution ran past its time or output-size budget (a runaway loop or an
    exploding template), so it was stopped."""


class ModelNotFound(LlmrtError, LookupError):
    """No model of that name is known."""


class Cancelled(LlmrtError):
    """The operation was cancelled by its caller."""


class StoreError(LlmrtError):
    """The model store refused or could not complete an operation."""


class InvalidName(StoreError, ValueError):
    """A model name is not ``[host/][namespace/]model[:tag]`` with valid parts."""


class InvalidDigest(StoreError, ValueError):
    """A digest is not ``sha256:<64 hex>``; nothing outside the store is ever touched."""


class DigestMismatch(StoreError):
    """Content whose sha256 differs from the digest it was written or pulled as."""


class RegistryError(LlmrtError):
    """A registry answered with an error, or could not be reached after retries."""


class RegistryAuthError(RegistryError):
    """A registry or its token service refused the request's credentials."""


class ModelfileError(LlmrtError, ValueError):
    """A Modelfile does not parse; ``line`` is the 1-based line it failed on (0: unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"(line {line}): {message}" if line else message)
        self.line = line


class QuantizeError(LlmrtError, ValueError):
    """Quantization failed or the type is not supported."""
