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
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidDigest, StoreError
from . import manifest as mt
from .blobs import hash_file
from .builder import ModelBuilder, copy_blob
from .defaults import find_or_import
from .message import Message
from .modelfile import check_parameters, parse_modelfile
from .names import parse_name
from .paths import parse_digest
from .progress import Progress
from .quantize import check_type
from .store import Store


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
            yield from _base(b, req.from_)
        for filename, digest in req.files.items():
            b.add_gguf(digest, filename)
        for filename, digest in req.adapters.items():
            b.add_gguf(digest, filename, kind="adapter")
        b.check_adapters()
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


def _base(b: ModelBuilder, source: str) -> Iterator[Progress]:
    """FROM: a blob reference, or a model name through the one resolver (a stored model; an
    embedded default is imported first), whose layers are reused."""
    ref = source.removeprefix("@")
    if ref.startswith("sha256"):
        b.add_gguf(ref, source)
        return
    for p in find_or_import(source, b.store):
        if p.status != "success":
            yield p
    b.inherit(b.store.require(source))


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
