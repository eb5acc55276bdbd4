"""Create a model: Ollama's ``/api/create`` request, and ``llmrt create NAME -f Modelfile``.

    for p in create(CreateRequest(model="tiny", from_="smollm2:135m", quantize="q8_0",
                                  system="Be brief.")):
        print(p.status)

The base is ``from`` (a stored model, whose layers are reused; an embedded default is imported
first; or a blob ``sha256:…``) and/or ``files`` / ``adapters`` ({filename: digest} of blobs
already uploaded through ``/api/blobs``). ``quantize`` rewrites the model layer in-process with
``llama_model_quantize``. ``template``, ``system``, ``license``, ``messages`` replace the base's;
``parameters`` are merged over the base's. Blobs are all in place before the manifest is written.

A GGUF added from ``files`` that carries a chat template gets it as its template layer, so
``show`` and the runner see the Jinja template llmrt renders (Ollama would store a Go template).
``create_from_modelfile`` does the client's part too: local paths in FROM/ADAPTER are copied
into the store first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ..errors import InvalidDigest, ModelNotFound, StoreError
from . import manifest as mt
from .blobs import hash_file, pin, unpin
from .gguf import GGUFInfo, read_gguf
from .message import Message, encode_messages
from .modelfile import check_parameters, parse_modelfile
from .names import Name, parse_name
from .paths import parse_digest
from .progress import Progress
from .quantize import check_type, quantize
from .store import Store

#: the order layers are written in
_ORDER = [mt.MODEL, mt.PROJECTOR, mt.ADAPTER, mt.TEMPLATE, mt.PROMPT, mt.SYSTEM, mt.LICENSE,
          mt.PARAMS, mt.MESSAGES]
_KIND = {"model": mt.MODEL, "adapter": mt.ADAPTER, "projector": mt.PROJECTOR}


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """What to create: the fields of Ollama's ``/api/create`` body (api/records.py maps the
    wire form onto this). ``name``/``modelfile``/``quantization`` are the pre-0.5 form, still
    read."""

    model: str = ""
    from_: str = ""
    files: dict[str, str] = field(default_factory=dict)
    adapters: dict[str, str] = field(default_factory=dict)
    template: str | None = None
    system: str | None = None
    parameters: dict[str, Any] | None = None
    messages: list[Message] | None = None
    license: str | list[str] | None = None
    quantize: str = ""
    renderer: str = ""
    parser: str = ""
    requires: str = ""
    name: str = ""
    modelfile: str = ""
    quantization: str = ""


def create(request: CreateRequest, *, store: Store | None = None) -> Iterator[Progress]:
    """Build and store a model; yield Ollama's create progress. Errors: InvalidName,
    ModelNotFound (from), StoreError (missing blob, not GGUF), QuantizeError, ModelfileError."""
    store = store or Store()
    req = _merge_legacy(request)
    name = parse_name(req.model)
    qtype = check_type(req.quantize) if req.quantize else ""
    params = check_parameters(req.parameters) if req.parameters is not None else None
    with ModelBuilder(store) as b:
        if req.from_:
            yield from b.base(req.from_)
        for filename, digest in req.files.items():
            b.add_gguf(digest, filename)
        for filename, digest in req.adapters.items():
            b.add_gguf(digest, filename, kind="adapter")
        if qtype:
            yield from b.quantize(qtype)
        b.set_text(mt.TEMPLATE, req.template)
        b.set_text(mt.SYSTEM, req.system)
        if req.license is not None:
            b.set_texts(mt.LICENSE, [req.license] if isinstance(req.license, str)
                        else req.license)
        if req.messages is not None:
            b.set_messages(req.messages)
        if params is not None:
            b.params = {**b.params, **params}
        b.config_extra = {"renderer": req.renderer, "parser": req.parser,
                          "requires": req.requires}
        yield from b.finish(name)


def prepare_modelfile(name: str, text: str, *, base_dir: str | os.PathLike[str] = ".",
                      quantize: str = "") -> tuple[CreateRequest, dict[str, Path]]:
    """What a client does before ``/api/create``: parse the Modelfile, hash the local files it
    names. Returns the request and {digest: path} of the blobs to upload."""
    mf = parse_modelfile(text)
    uploads: dict[str, Path] = {}
    files: dict[str, str] = {}
    adapters: dict[str, str] = {}
    from_ = mf.from_
    local = _local_files(mf.from_, Path(base_dir))
    if local is not None:
        from_ = ""
        for path in local:
            files[path.name] = digest = _digest_of(path)
            uploads[digest] = path
    for value in mf.adapters:
        paths = _local_files(value, Path(base_dir))
        if paths is None:
            raise StoreError(f"ADAPTER {value!r}: no such file")
        for path in paths:
            adapters[path.name] = digest = _digest_of(path)
            uploads[digest] = path
    req = CreateRequest(model=name, from_=from_, files=files, adapters=adapters,
                        template=mf.template, system=mf.system,
                        parameters=mf.parameters or None, messages=mf.messages or None,
                        license=mf.license or None, quantize=quantize, renderer=mf.renderer,
                        parser=mf.parser, requires=mf.requires)
    return req, uploads


def create_from_modelfile(name: str, text: str, *, base_dir: str | os.PathLike[str] = ".",
                          quantize: str = "", store: Store | None = None) -> Iterator[Progress]:
    """``llmrt create NAME -f Modelfile [--quantize T]`` in-process: copy local files into the
    store, then create."""
    store = store or Store()
    if quantize:
        check_type(quantize)
    req, uploads = prepare_modelfile(name, text, base_dir=base_dir, quantize=quantize)
    for digest, path in uploads.items():
        if not store.has_blob(digest):
            yield from copy_blob(store, digest, path, f"copying file {digest}")
    yield from create(req, store=store)


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
        self.model_gguf: GGUFInfo | None = None
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

    def base(self, source: str) -> Iterator[Progress]:
        """FROM: a blob reference, a stored model, or an embedded default (imported first)."""
        ref = source.removeprefix("@")
        if ref.startswith("sha256"):
            self.add_gguf(ref, source)
            return
        found = self.store.find(source)
        if found is None:
            from .defaults import import_default, is_default

            if not is_default(source):
                raise ModelNotFound(f"model {source!r} not found")
            for p in import_default(source, store=self.store):
                if p.status != "success":
                    yield p
            found = self.store.require(source)
        self.inherit(found)

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


def _merge_legacy(req: CreateRequest) -> CreateRequest:
    """Fold the pre-0.5 ``name``/``modelfile``/``quantization`` fields into the current form."""
    out = dataclasses.replace(req, model=req.model or req.name,
                              quantize=req.quantize or req.quantization)
    if not req.modelfile:
        return out
    mf = parse_modelfile(req.modelfile)
    adapters = dict(out.adapters)
    for value in mf.adapters:
        ref = value.removeprefix("@")
        adapters.setdefault(ref, ref)
    return dataclasses.replace(
        out, from_=out.from_ or mf.from_, adapters=adapters,
        template=out.template if out.template is not None else mf.template,
        system=out.system if out.system is not None else mf.system,
        parameters={**mf.parameters, **(out.parameters or {})} or None,
        messages=out.messages if out.messages is not None else (mf.messages or None),
        license=out.license if out.license is not None else (mf.license or None))


def _local_files(value: str, base_dir: Path) -> list[Path] | None:
    """The GGUF file(s) a FROM/ADAPTER path names, or None when it is not a local path."""
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        path = base_dir / path
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(path.glob("*.gguf"))
        if not found:
            raise StoreError(f"{value}: no GGUF files in this directory")
        return found
    return None


def _digest_of(path: Path) -> str:
    """sha256 of a local file; a store blob is named by its (verified) digest already."""
    if path.parent.name == "blobs" and path.name.startswith("sha256-") and len(path.name) == 71:
        try:
            return parse_digest(path.name)
        except InvalidDigest:
            pass
    return hash_file(path)
