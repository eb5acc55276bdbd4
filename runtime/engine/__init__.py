"""Engines run a loaded model. The server and scheduler only see the ``Engine`` interface.

- ``inprocess.InProcessEngine``: the cffi binding, one thread with continuous batching.
- ``subprocess.SubprocessEngine``: a llama-server child from the same build.
- ``factory.make_engine`` picks one (``LLMRT_ENGINE=auto|inprocess|subprocess``).

Nothing here imports the compiled module until an engine is made, so the subprocess engine works
when the extension cannot be imported.
"""

from __future__ import annotations

from .base import Engine, EngineRequest, Final, Piece

__all__ = ["Engine", "EngineRequest", "Final", "Piece"]
