"""llmrt: run local GGUF language models in-process, or serve them with Ollama's API.

    import llmrt
    with llmrt.load("smollm2:135m") as llm:
        print(llm.generate("The capital of France is", num_predict=8, temperature=0).text)
"""

from __future__ import annotations

from llmrt.runtime.errors import (
    Cancelled,
    ContextOverflow,
    LlmrtError,
    ModelLoadError,
    ModelNotFound,
)
from llmrt.runtime.llm import LLM, AsyncGeneration, AsyncLLM, Generation, GenerationResult, load

__version__ = "0.1.0"
__all__ = [
    "LLM", "AsyncGeneration", "AsyncLLM", "Cancelled", "ContextOverflow", "Generation",
    "GenerationResult", "LlmrtError", "ModelLoadError", "ModelNotFound", "__version__", "load",
]
