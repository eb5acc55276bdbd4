"""ModelBuilder: collects the layers of one manifest and writes it (create, the bundled defaults).

Every blob it uses is pinned until the manifest is written, so a concurrent prune cannot take
it. Where the base of a new model comes from (FROM) is create's question (``create.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from ..adapters import check_lora
from ..errors import InvalidDigest, StoreError
from . import manifest as mt
from .blobs import pin, unpin
from .gguf import GGUFHeader, read_gguf
from .message import Message, encode_messages
from .names import Name
from .paths import parse_digest
from .progress import Progress
from .quantize import quantize
from .store import Store

#: the order layers are written in
_ORDER = [mt.MODEL, mt.PROJECTOR, mt.ADAPTER, mt.TEMPLATE, mt.PROMPT, mt.SYSTEM, mt.LICENSE,
          mt.PARAMS, mt.MESSAGES]
_KIND = {"model": mt.MODEL, "adapter": mt.ADAPTER, "projector": mt.PROJECTOR}


def copy_blob(store: Store, digest: str, path: Path, status: str) -> Iterator[Progress]:
    """Copy a local file into the store as blob ``digest`` (verified on commit), with progress."""
    total, done = path.stat().st_size, 0
    yield Progress(status, digest=digest, total=total)
    with store.blobs.writer(digest) as w, path.open("rb") as src:
        while chunk := src.read(1 << 22):
            w.write(chunk)
            done += len(chunk)
            yield Progress(status, digest=digest, total=total, completed=done)


class ModelBuilder:
    """Collects layers for one manifest; pins every blob it uses until the manifest is written.
    Shared by create, the embedded defaults and pull-free imports."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.layers: list[mt.Layer] = []
        self.params: dict[str, Any] = {}
        self.model_gguf: GGUFHeader | None = None
        self.base_config = mt.ModelConfig()
        self.config_extra: dict[str, str] = {}
        self._pinned: list[str] = []
        self._reused: set[str] = set()

    def __enter__(self) -> ModelBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        for digest in self._pinned:
            unpin(self.store.paths, digest)
        self._pinned.clear()

    # ---- sources --------------------------------------------------------------------------------

    def inherit(self, name: Name) -> None:
        _, manifest, _ = self.store.read_manifest(name)
        origin = name.display_shortest()
        for layer in manifest.layers:
            self.pin(layer.digest)
            self._reused.add(layer.digest)
            self.layers.append(msgspec.structs.replace(layer, from_=layer.from_ or origin))
            if layer.media_type == mt.PARAMS:
                self.params = json.loads(self.store.blobs.path(layer.digest).read_bytes())
        self.layers = [la for la in self.layers if la.media_type != mt.PARAMS]
        self.base_config = self.store.config(manifest)

    def add_gguf(self, digest: str, filename: str, *, kind: str | None = None) -> None:
        """A GGUF blob already in the store, as model, adapter or projector layer."""
        try:
            digest = parse_digest(digest)
        except InvalidDigest as exc:
            raise InvalidDigest(f"{filename}: {exc}") from exc
        if not self.store.has_blob(digest):
            raise StoreError(f"{filename}: blob {digest} not found; upload it first "
                             "(/api/blobs)")
        self.pin(digest)
        path = self.store.blobs.path(digest)
        with path.open("rb") as f:
            is_gguf = f.read(4) == b"GGUF"
        if not is_gguf:
            raise StoreError(f"{filename}: only GGUF files are supported (safetensors and "
                             "other formats need converting to GGUF first)")
        info = read_gguf(path)
        media_type = _KIND[kind or info.kind]
        if media_type == mt.MODEL:
            self.layers = [la for la in self.layers if la.media_type != mt.MODEL]
            self.model_gguf = info
            if (chat := info.get("tokenizer.chat_template")) and not self._has(mt.TEMPLATE):
                self.set_text(mt.TEMPLATE, chat)
        self.layers.append(mt.Layer(media_type, digest, path.stat().st_size))
        self._reused.add(digest)

    def check_adapters(self) -> None:
        """Every adapter layer is a LoRA for the model layer (AdapterMismatch, a 400, names
        what does not fit), so a mismatch is refused at create, not at the first load."""
        adapters = [la for la in self.layers if la.media_type == mt.ADAPTER]
        model = next((la for la in self.layers if la.media_type == mt.MODEL), None)
        if adapters and model is None:
            raise StoreError("an adapter needs a model (FROM) to apply to")
        for la in adapters:
            assert model is not None
            check_lora(self.store.blobs.path(la.digest), self.store.blobs.path(model.digest))

    def quantize(self, qtype: str) -> Iterator[Progress]:
        model = next((la for la in self.layers if la.media_type == mt.MODEL), None)
        if model is None:
            raise StoreError("nothing to quantize: no model given (from/files)")
        src = self.store.blobs.path(model.digest)
        src_type = read_gguf(src).file_type
        blobs_dir = self.store.paths.blobs
        fd, tmp = tempfile.mkstemp(prefix=".tmp-quantize-", dir=blobs_dir)
        os.close(fd)
        try:
            yield from quantize(src, Path(tmp), qtype,
                                status=f"quantizing {src_type} model to {qtype.upper()}")
            digest = self.store.blobs.adopt(Path(tmp), before=self.pin)
        finally:
            Path(tmp).unlink(missing_ok=True)
        path = self.store.blobs.path(digest)
        self.model_gguf = read_gguf(path)
        self.layers = [mt.Layer(mt.MODEL, digest, path.stat().st_size) if la is model else la
                       for la in self.layers]

    # ---- text layers ----------------------------------------------------------------------------

    def set_text(self, media_type: str, text: str | None) -> None:
        """Replace the layer of ``media_type`` (a non-empty text; None or '' keep the base's)."""
        if text:
            self.set_texts(media_type, [text])

    def set_texts(self, media_type: str, texts: list[str]) -> None:
        drop = (mt.TEMPLATE, mt.PROMPT) if media_type == mt.TEMPLATE else (media_type,)
        self.layers = [la for la in self.layers if la.media_type not in drop]
        for text in texts:
            self._add_bytes(media_type, text.encode())

    def set_messages(self, messages: list[Message]) -> None:
        self.layers = [la for la in self.layers if la.media_type != mt.MESSAGES]
        if messages:
            self._add_bytes(mt.MESSAGES, encode_messages(messages))

    # ---- finishing ------------------------------------------------------------------------------

    def finish(self, name: Name, *, announce: bool = True) -> Iterator[Progress]:
        """Write the params and config blobs, then the manifest (``announce``: one record per
        layer, as create does)."""
        model = next((la for la in self.layers if la.media_type == mt.MODEL), None)
        if model is None:
            raise StoreError("no model: give 'from' or a GGUF in 'files'")
        if self.params:
            self._add_bytes(mt.PARAMS, json.dumps(self.params).encode())
        self.layers.sort(key=lambda la: _ORDER.index(la.media_type)
                         if la.media_type in _ORDER else len(_ORDER))
        for layer in self.layers if announce else []:
            verb = "using existing" if layer.digest in self._reused else "creating new"
            yield Progress(f"{verb} layer {layer.digest}")
        config = self._config(model)
        config_digest = self._add_bytes(mt.CONFIG, mt.encode_config(config), keep=False)
        manifest = mt.Manifest(
            config=mt.Layer(mt.CONFIG, config_digest, self.store.blobs.size(config_digest)),
            layers=self.layers)
        yield Progress("writing manifest")
        self.store.write_manifest(name, manifest)
        yield Progress("success")

    def _config(self, model: mt.Layer) -> mt.ModelConfig:
        info = self.model_gguf or read_gguf(self.store.blobs.path(model.digest))
        base = self.base_config
        arch = info.architecture or base.model_family
        extra = {k: v for k, v in self.config_extra.items() if v}
        return msgspec.structs.replace(
            base, model_format="gguf", model_family=arch,
            model_families=[arch] if arch else base.model_families,
            model_type=info.parameter_size if info.n_params else base.model_type,
            file_type=info.file_type,
            rootfs=mt.RootFS(diff_ids=[la.digest for la in self.layers]), **extra)

    def _has(self, media_type: str) -> bool:
        return any(la.media_type == media_type for la in self.layers)

    def _add_bytes(self, media_type: str, data: bytes, *, keep: bool = True) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.pin(digest)
        if not self.store.has_blob(digest):
            self.store.blobs.write(digest, data)
        else:
            self._reused.add(digest)
        if keep:
            self.layers.append(mt.Layer(media_type, digest, len(data)))
        return digest

    def pin(self, digest: str) -> None:
        pin(self.store.paths, digest)
        self._pinned.append(digest)
