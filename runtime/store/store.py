"""Store: the models on this machine, in Ollama's layout (see paths.py).

    store = Store()                          # $LLMRT_MODELS / $OLLAMA_MODELS / ~/.llmrt/models
    store.list()                             # -> [ModelEntry]      (/api/tags)
    store.show("smollm2:135m")               # -> ShowInfo          (/api/show)
    model = store.resolve("smollm2:135m")    # -> ResolvedModel     (what a runner loads)
    store.copy("smollm2:135m", "mine")       # /api/copy
    store.delete("mine")                     # /api/delete; prunes blobs nothing references

Names are looked up ignoring case. A manifest is written only after every blob it names is in
place, and atomically; delete and prune hold the store lock (blobs.Blobs.locked) so they never race
a manifest write.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidName, ModelNotFound, StoreError
from ..options import Options
from . import manifest as mt
from ._atomic import write_bytes
from .blobs import Blobs, is_pinned
from .gguf import GGUFHeader, read_gguf
from .info import ModelDetails, ModelEntry, ShowInfo
from .message import Message, decode_messages
from .modelfile import Modelfile, format_modelfile
from .names import Name, parse_name
from .paths import StorePaths, models_dir
from .templates import TemplateFormat, template_format

log = logging.getLogger("llmrt.store")
#: (inside Store, ``list`` names the method)
Digests = list[str]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """Everything needed to run a stored model, read from its manifest and layers."""

    name: Name
    digest: str
    manifest: mt.Manifest
    config: mt.ModelConfig
    model_path: Path
    template: str | None
    system: str | None
    parameters: dict[str, Any]
    messages: list[Message]
    license: list[str]
    adapters: list[Path]
    projectors: list[Path]
    modified_at: datetime.datetime

    @property
    def options(self) -> Options:
        """The model's PARAMETERs as Options (names llmrt does not know are ignored)."""
        return Options.from_dict(self.parameters)

    @property
    def projector(self) -> Path | None:
        return self.projectors[0] if self.projectors else None

    @property
    def template_format(self) -> TemplateFormat | None:
        return None if self.template is None else template_format(self.template)

    @property
    def chat_template(self) -> str | None:
        """The stored template when llmrt can render it (Jinja), else None: use the GGUF's."""
        return self.template if self.template_format == "jinja" else None


class Store:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.paths = StorePaths(models_dir() if root is None else root)
        self.blobs = Blobs(self.paths)

    @property
    def root(self) -> Path:
        return self.paths.root

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # ---- blobs ----------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        return self.blobs.path(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blobs.has(digest)

    def write_blob(self, digest: str, data: Any) -> str:
        """Write a blob (bytes, chunks or a binary file), verified against ``digest``."""
        return self.blobs.write(digest, data)

    # ---- names and manifests --------------------------------------------------------------------

    def find(self, name: str | Name) -> Name | None:
        """The stored name equal to ``name`` ignoring case (with its stored case), or None."""
        want = parse_name(name) if isinstance(name, str) else name
        if self.paths.manifest(want).is_file():
            return want
        found: list[str] = []
        here = self.paths.manifests
        for part in want.parts:
            try:
                match = sorted(e.name for e in os.scandir(here) if e.name.lower() == part.lower())
            except OSError:
                return None
            if not match:
                return None
            found.append(match[0])
            here = here / match[0]
        if not here.is_file():
            return None
        return Name(found[0], found[1], found[2], found[3], scheme=want.scheme)

    def require(self, name: str | Name) -> Name:
        """Like ``find`` but raises ModelNotFound, in Ollama's words."""
        found = self.find(name)
        if found is None:
            raise ModelNotFound(f"model {str(name)!r} not found")
        return found

    def names(self) -> list[Name]:
        """Every stored model name (``manifests/*/*/*/*`` that parse as names)."""
        out = []
        for path in sorted(self.paths.manifests.glob("*/*/*/*")):
            if not path.is_file():
                continue
            host, ns, model, tag = path.relative_to(self.paths.manifests).parts
            try:
                name = parse_name(f"{host}/{ns}/{model}:{tag}")
            except InvalidName:
                continue
            if name.parts == (host, ns, model, tag):
                out.append(name)
        return out

    def read_manifest(self, name: str | Name) -> tuple[Name, mt.Manifest, bytes]:
        found = self.require(name)
        data = self.paths.manifest(found).read_bytes()
        return found, mt.decode_manifest(data), data

    def write_manifest(self, name: str | Name, manifest: mt.Manifest | bytes) -> Name:
        """Write a manifest once every blob it names is present with its size; return the name
        it was stored under (an existing name's case is kept)."""
        data = manifest if isinstance(manifest, bytes) else mt.encode_manifest(manifest)
        parsed = mt.decode_manifest(data)
        want = parse_name(name) if isinstance(name, str) else name
        with self.blobs.locked():
            for layer in parsed.all_layers:
                path = self.blobs.path(layer.digest)
                if not path.is_file():
                    raise StoreError(f"cannot write manifest for {want}: blob {layer.digest} "
                                     "is missing")
                if path.stat().st_size != layer.size:
                    raise StoreError(f"cannot write manifest for {want}: blob {layer.digest} "
                                     f"has {path.stat().st_size} bytes, the manifest says "
                                     f"{layer.size}")
            target = self.find(want) or want
            write_bytes(self.paths.manifest(target), data)
        return target

    # ---- reading models -------------------------------------------------------------------------

    def resolve(self, name: str | Name) -> ResolvedModel:
        """What a runner needs; ModelNotFound / StoreError (missing blobs, no model layer)."""
        found, manifest, data = self.read_manifest(name)
        model = manifest.first(mt.MODEL)
        if model is None:
            raise StoreError(f"{found} has no model layer")
        params: dict[str, Any] = {}
        if (layer := manifest.first(mt.PARAMS)) is not None:
            loaded = json.loads(self._blob_bytes(layer))
            if not isinstance(loaded, dict):
                raise StoreError(f"{found}: the params layer is not a JSON object")
            params = loaded
        messages: list[Message] = []
        if (layer := manifest.first(mt.MESSAGES)) is not None:
            messages = decode_messages(self._blob_bytes(layer))
        template = manifest.first(mt.TEMPLATE) or manifest.first(mt.PROMPT)
        system = manifest.first(mt.SYSTEM)
        return ResolvedModel(
            name=found, digest=hashlib.sha256(data).hexdigest(), manifest=manifest,
            config=self.config(manifest), model_path=self._existing(model),
            template=None if template is None else self._blob_text(template),
            system=None if system is None else self._blob_text(system),
            parameters=params, messages=messages,
            license=[self._blob_text(la) for la in manifest.of_type(mt.LICENSE)],
            adapters=[self._existing(la) for la in manifest.of_type(mt.ADAPTER)],
            projectors=[self._existing(la) for la in manifest.of_type(mt.PROJECTOR)],
            modified_at=_mtime(self.paths.manifest(found)),
        )

    def list(self) -> list[ModelEntry]:
        """Every readable model, newest first (``/api/tags``)."""
        out = []
        for name in self.names():
            path = self.paths.manifest(name)
            try:
                data = path.read_bytes()
                manifest = mt.decode_manifest(data)
                config = self.config(manifest)
            except (OSError, StoreError) as exc:
                log.warning("skipping unreadable manifest %s: %s", path, exc)
                continue
            short = name.display_shortest()
            out.append(ModelEntry(name=short, model=short, modified_at=_mtime(path),
                                  size=manifest.size, digest=hashlib.sha256(data).hexdigest(),
                                  details=ModelDetails.from_config(config)))
        out.sort(key=lambda e: e.modified_at, reverse=True)
        return out

    def show(self, name: str | Name, *, verbose: bool = False) -> ShowInfo:
        """``/api/show``: Modelfile, parameters, template, details, GGUF metadata."""
        model = self.resolve(name)
        gguf = read_gguf(model.model_path, max_array=1 << 62 if verbose else 64)
        info = dict(gguf.metadata)
        info["general.parameter_count"] = gguf.n_params
        projector_info: dict[str, Any] = {}
        if model.projector is not None:
            projector_info = dict(read_gguf(model.projector).metadata)
        template = model.template
        if template is None:
            template = gguf.get("tokenizer.chat_template")
        return ShowInfo(
            license="\n".join(model.license), modelfile=self.modelfile(model),
            parameters=format_parameters(model.parameters), template=template or "",
            system=model.system or "", details=ModelDetails.from_config(model.config),
            messages=model.messages, model_info=info, projector_info=projector_info,
            capabilities=capabilities(gguf, template, model), modified_at=model.modified_at)

    def modelfile(self, model: str | Name | ResolvedModel) -> str:
        """``show --modelfile``: FROM the model blob, then what the other layers hold."""
        m = model if isinstance(model, ResolvedModel) else self.resolve(model)
        mf = Modelfile(from_=str(m.model_path), parameters=m.parameters, template=m.template,
                       system=m.system, adapters=[str(a) for a in m.adapters],
                       license=m.license, messages=m.messages)
        header = ('Modelfile generated by "llmrt show"\n'
                  "To build a new Modelfile based on this, replace FROM with:\n"
                  f"FROM {m.name.display_shortest()}")
        return format_modelfile(mf, header=header)

    # ---- changing models ------------------------------------------------------------------------

    def copy(self, source: str | Name, destination: str | Name) -> Name:
        """``/api/copy``: the destination gets the source's manifest bytes."""
        _, _, data = self.read_manifest(source)
        return self.write_manifest(destination, data)

    def delete(self, name: str | Name) -> Digests:
        """``/api/delete``: remove the manifest, then prune; return the blobs removed."""
        with self.blobs.locked():
            found = self.require(name)
            path = self.paths.manifest(found)
            path.unlink()
            for parent in list(path.parents)[:3]:
                try:
                    parent.rmdir()
                except OSError:
                    break
            return self._prune_locked()

    def prune(self, only: set[str] | None = None) -> Digests:
        """Remove every blob (of ``only``, if given) that no manifest references and no
        in-flight transfer pins; return the digests removed."""
        with self.blobs.locked():
            return self._prune_locked(only)

    def _prune_locked(self, only: set[str] | None = None) -> Digests:
        referenced: set[str] = set()
        for name in self.names():
            try:
                manifest = mt.decode_manifest(self.paths.manifest(name).read_bytes())
            except (OSError, StoreError) as exc:
                log.warning("not pruning: cannot read the manifest of %s (%s)", name, exc)
                return []
            referenced.update(layer.digest for layer in manifest.all_layers)
        removed = []
        candidates = self.blobs.digests() if only is None else self.blobs.digests() & only
        for digest in sorted(candidates - referenced):
            if is_pinned(self.paths, digest):
                continue
            self.blobs.path(digest).unlink(missing_ok=True)
            removed.append(digest)
        return removed

    # ---- helpers --------------------------------------------------------------------------------

    def _existing(self, layer: mt.Layer) -> Path:
        path = self.blobs.path(layer.digest)
        if not path.is_file():
            raise StoreError(f"blob {layer.digest} ({layer.media_type}) is missing from "
                             f"{self.paths.blobs}")
        return path

    def _blob_bytes(self, layer: mt.Layer) -> bytes:
        return self._existing(layer).read_bytes()

    def _blob_text(self, layer: mt.Layer) -> str:
        return self._blob_bytes(layer).decode("utf-8", "replace")

    def config(self, manifest: mt.Manifest) -> mt.ModelConfig:
        """The config blob of a manifest (empty if missing or unreadable)."""
        path = self.blobs.path(manifest.config.digest)
        return mt.decode_config(path.read_bytes()) if path.is_file() else mt.ModelConfig()


def _mtime(path: Path) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(path.stat().st_mtime).astimezone()


def format_parameters(params: dict[str, Any]) -> str:
    """``/api/show``'s ``parameters`` text, laid out as Ollama's ``%-30s %#v``."""
    lines = []
    for key, value in params.items():
        for item in (value if isinstance(value, list) else [value]):
            lines.append(f"{key:<30} {_go_value(item)}")
    return "\n".join(lines)


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def capabilities(gguf: GGUFHeader, template: str | None, model: ResolvedModel) -> list[str]:
    """Ollama's capability names, judged from the GGUF and the template."""
    arch = gguf.architecture
    caps = ["embedding"] if f"{arch}.pooling_type" in gguf.metadata else ["completion"]
    text = template or ""
    if "tools" in text:
        caps.append("tools")
    if "suffix" in text:
        caps.append("insert")
    if model.projectors or f"{arch}.vision.block_count" in gguf.metadata:
        caps.append("vision")
    if "thinking" in text or "reasoning_content" in text:
        caps.append("thinking")
    return caps
