"""llmrt: run local GGUF language models in-process, or serve them with Ollama's API.

    import llmrt
    with llmrt.load("smollm2:135m") as llm:
        print(llm.generate("The capital of France is", num_predict=8, temperature=0).text)

``import llmrt`` does not import the compiled llama.cpp module: ``LLM``, ``load``,
``Generation`` and ``GenerationResult`` are imported on first use, so the server and its
llama-server engine work when the extension cannot be imported.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from llmrt.runtime.errors import (
    Cancelled,
    ContextOverflow,
    LlmrtError,
    ModelLoadError,
    ModelNotFound,
)

if TYPE_CHECKING:
    from llmrt.runtime.llm import (
        LLM,
        AsyncGeneration,
        AsyncLLM,
        Generation,
        GenerationResult,
        load,
    )

__version__ = "0.1.0"
__all__ = [
    "LLM", "AsyncGeneration", "AsyncLLM", "Cancelled", "ContextOverflow", "Generation",
    "GenerationResult", "LlmrtError", "ModelLoadError", "ModelNotFound", "__version__", "load",
]
# the library API imports the compiled module: only when it is used
_LAZY = {name: "llmrt.runtime.llm" for name in
         ("LLM", "AsyncLLM", "AsyncGeneration", "Generation", "GenerationResult", "load")}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'llmrt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
