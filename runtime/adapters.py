"""LoRA adapters checked against their base model before anything loads (pure Python).

A Modelfile ``ADAPTER`` or ``/api/create``'s ``adapters`` names a GGUF LoRA. llama.cpp refuses a
mismatched one at load time with only a log line; this check reads both GGUF headers
(runtime/gguf.py) and says what is wrong, so create can answer a clear 400 and a load a clear
error. The rules are llama.cpp's own (src/llama-adapter.cpp): ``general.type`` "adapter",
``adapter.type`` "lora", the base's architecture, and for each ``<tensor>.lora_a``/``lora_b``
pair a base tensor with ``ne[0] == a.ne[0]``, ``ne[1] == b.ne[1]`` and rank ``a.ne[1] == b.ne[0]``.
"""

from __future__ import annotations

import os

from .errors import ModelLoadError
from .gguf import GGUFHeader, read_header


class AdapterMismatch(ModelLoadError, ValueError):
    """The adapter is not a LoRA for this base model."""


def check_lora(adapter: str | os.PathLike[str], base: str | os.PathLike[str]) -> int:
    """Raise AdapterMismatch naming the first problem; return the number of adapted tensors."""
    a = read_header(adapter)
    b = read_header(base)
    return check_headers(a, b)


def check_headers(a: GGUFHeader, b: GGUFHeader) -> int:
    name = os.path.basename(a.path)
    if a.get("general.type") != "adapter" or a.get("adapter.type") != "lora":
        raise AdapterMismatch(f"{name} is not a LoRA adapter (general.type "
                              f"{a.get('general.type')!r}, adapter.type {a.get('adapter.type')!r})")
    if a.architecture != b.architecture:
        raise AdapterMismatch(f"the LoRA {name} is for {a.architecture!r} models; the base model "
                              f"is {b.architecture!r}")
    base = {t.name: t.dims for t in b.tensors}
    pairs: dict[str, dict[str, tuple[int, ...]]] = {}
    for t in a.tensors:
        for side in ("lora_a", "lora_b"):
            if t.name.endswith("." + side):
                pairs.setdefault(t.name[: -len(side) - 1], {})[side] = t.dims
    if not pairs:
        raise AdapterMismatch(f"the LoRA {name} has no lora_a/lora_b tensors")
    for target, ab in sorted(pairs.items()):
        if set(ab) != {"lora_a", "lora_b"}:
            raise AdapterMismatch(f"the LoRA {name} has {target} without its lora_a/lora_b pair")
        if target not in base:
            raise AdapterMismatch(f"the LoRA {name} adapts {target}, which the base model lacks")
        w, la, lb = base[target], ab["lora_a"], ab["lora_b"]
        if target == "token_embd.weight":  # A and B are flipped for the embedding lookup
            ok = len(la) == len(lb) == 2 and w[0] == lb[1] and w[1] == la[1]
        else:
            ok = len(la) == len(lb) == 2 and w[0] == la[0] and w[1] == lb[1] and la[1] == lb[0]
        if not ok:
            raise AdapterMismatch(f"the LoRA {name}: {target} has shapes lora_a {list(la)}, "
                                  f"lora_b {list(lb)}, which do not fit the base's {list(w)}")
    return len(pairs)
