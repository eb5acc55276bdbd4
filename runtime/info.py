"""ModelInfo: what an engine reports about its model (/api/show, /api/ps, logs).

Plain data with no llama.cpp behind it, so that both engines (the in-process one reads it from
the loaded model, the llama-server one from the child and the GGUF header) and everything that
imports the engine interface work without the compiled module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelInfo:
    path: str
    description: str
    architecture: str
    quantization: str
    n_ctx_train: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    size: int
    n_params: int
    has_encoder: bool
