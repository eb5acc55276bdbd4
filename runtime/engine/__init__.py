"""Engines run a loaded model. The server and scheduler only see the ``Engine`` interface.

- ``InProcessEngine`` (inprocess.py): the cffi binding, one thread with continuous batching.
- the subprocess engine (a llama-server child) arrives with its own issue.
"""

from __future__ import annotations

from .base import Engine, EngineRequest, Final, Piece
from .inprocess import InProcessEngine

__all__ = ["Engine", "EngineRequest", "Final", "InProcessEngine", "Piece"]
