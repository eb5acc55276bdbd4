"""Every request and response body of the HTTP APIs: one msgspec Struct per message.

    ollama.py   /api/generate, /api/chat, /api/embed, /api/embeddings, /api/version, errors
    models.py   /api/tags, /api/ps, /api/show, /api/copy, /api/delete, /api/pull, /api/push,
                /api/create and their progress records
    openai.py   /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, errors

All of them derive from :class:`Base`. The package imports nothing of llmrt: the routes (api/*)
map the runtime's records onto these shapes (api/records.py), never the other way round.
Decoders are built once per type by ``api.requests.decode``.
"""

from __future__ import annotations

import msgspec


class Base(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The base of every wire message.

    - ``kw_only``: messages are built with keywords, so adding a field never shifts another.
    - ``omit_defaults``: a field still at its default is left out of the JSON, as Ollama's
      ``omitempty`` does. A message whose wire form always carries every field (``null``
      included, as OpenAI's ``finish_reason`` or Ollama's model ``details``) says
      ``omit_defaults=False`` in its class line.
    - ``msgspec.UNSET`` marks "not given" (never encoded) where a default would be a value.
    - Unknown fields are ignored on decoding: newer clients send extras, and Ollama ignores them.
    """
