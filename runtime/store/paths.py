"""Where things live in a store, Ollama's layout byte for byte.

    <root>/manifests/<host>/<namespace>/<model>/<tag>    Docker manifest v2 JSON
    <root>/blobs/sha256-<64 hex>                         content-addressed layers and configs
    <root>/blobs/sha256-<64 hex>-partial[-<N>]           an interrupted download and its parts

The root is ``$LLMRT_MODELS``, else ``$OLLAMA_MODELS`` (so an existing Ollama store just works),
else ``~/.llmrt/models``. Every path is built from a validated name or digest and checked once
more to lie under the root.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import InvalidDigest, StoreError
from .names import Name

_DIGEST = re.compile(r"sha256[:-]([0-9a-fA-F]{64})")


def models_dir() -> Path:
    """The store root chosen by the environment."""
    root = os.environ.get("LLMRT_MODELS") or os.environ.get("OLLAMA_MODELS")
    return Path(root).expanduser() if root else Path.home() / ".llmrt" / "models"


def parse_digest(digest: str) -> str:
    """``sha256:<64 lowercase hex>`` from ``sha256:…`` or ``sha256-…``; else InvalidDigest."""
    m = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
    if m is None:
        raise InvalidDigest(f"invalid digest {digest!r}: expected sha256:<64 hex digits>")
    return "sha256:" + m.group(1).lower()


def short_digest(digest: str) -> str:
    """The 12 hex digits Ollama shows in ``pulling <digest12>``."""
    return parse_digest(digest)[7:19]


class StorePaths:
    """Paths inside one store root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser()))
        self.manifests = self.root / "manifests"
        self.blobs = self.root / "blobs"

    def blob(self, digest: str) -> Path:
        return self._inside(self.blobs / ("sha256-" + parse_digest(digest)[7:]))

    def partial(self, digest: str) -> Path:
        return self._inside(self.blobs / ("sha256-" + parse_digest(digest)[7:] + "-partial"))

    def manifest(self, name: Name) -> Path:
        return self._inside(self.manifests.joinpath(*name.parts))

    def _inside(self, path: Path) -> Path:
        normal = Path(os.path.normpath(path))
        if normal != path or not normal.is_relative_to(self.root):
            raise StoreError(f"refusing a path outside the store: {path}")
        return path
