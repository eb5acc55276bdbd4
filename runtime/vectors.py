"""Small vector helpers (pure Python)."""

from __future__ import annotations

import math


def normalize(vec: list[float]) -> list[float]:
    """L2-normalize; a zero vector stays as it is."""
    norm = math.sqrt(math.fsum(x * x for x in vec))
    return [x / norm for x in vec] if norm > 0 else list(vec)
