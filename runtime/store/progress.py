"""Progress records, exactly Ollama's ``ProgressResponse``: what /api/pull, /api/push and
/api/create stream as NDJSON, one record per line.

    {"status":"pulling manifest"}
    {"status":"pulling 4ecf1a7c1e2f","digest":"sha256:4ecf…","total":98362432,"completed":1048576}
    {"status":"verifying sha256 digest"}
    {"status":"writing manifest"}
    {"status":"success"}
"""

from __future__ import annotations

import msgspec


class Progress(msgspec.Struct, omit_defaults=True):
    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0

