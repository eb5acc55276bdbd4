"""Progress records of pull, push, create and quantize: Ollama's ``ProgressResponse`` fields.

The HTTP layer streams them as NDJSON (api/schema/models.py ``ProgressResponse``), one per line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0
