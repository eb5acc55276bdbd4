"""Manifests (Docker image manifest v2, schema 2), their layers and the config blob.

Encoded exactly as Ollama's Go code writes them: compact JSON, fields in this order, ``from`` and
``name`` left out when empty. Decoding ignores fields we do not know, so manifests written by newer
Ollama versions still read.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

from ..errors import StoreError
from .paths import parse_digest

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.docker.container.image.v1+json"

_PREFIX = "application/vnd.ollama.image."
MODEL = _PREFIX + "model"
TEMPLATE = _PREFIX + "template"
PROMPT = _PREFIX + "prompt"  # the legacy name of TEMPLATE
SYSTEM = _PREFIX + "system"
PARAMS = _PREFIX + "params"
MESSAGES = _PREFIX + "messages"
LICENSE = _PREFIX + "license"
ADAPTER = _PREFIX + "adapter"
PROJECTOR = _PREFIX + "projector"


class Layer(msgspec.Struct, rename="camel", omit_defaults=True):
    """One layer (or the config) of a manifest."""

    media_type: str
    digest: str
    size: int
    #: the model this layer was inherited from (used for cross-repository mounts on push)
    from_: str = msgspec.field(default="", name="from")
    name: str = ""


class Manifest(msgspec.Struct, rename="camel", kw_only=True):
    schema_version: int = 2
    media_type: str = MANIFEST_V2
    config: Layer
    layers: list[Layer]

    @property
    def all_layers(self) -> list[Layer]:
        """Layers then config: every blob the manifest needs."""
        return [*self.layers, self.config]

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.all_layers)

    def first(self, media_type: str) -> Layer | None:
        return next((la for la in self.layers if la.media_type == media_type), None)

    def of_type(self, *media_types: str) -> list[Layer]:
        return [la for la in self.layers if la.media_type in media_types]


class RootFS(msgspec.Struct):
    type: str = "layers"
    diff_ids: list[str] = msgspec.field(default_factory=list)


class ModelConfig(msgspec.Struct, kw_only=True):
    """Ollama's ConfigV2: what ``/api/tags`` and ``/api/show`` report as a model's details.

    UNSET fields are the ones Go writes with ``omitempty``."""

    model_format: str = ""
    model_family: str = ""
    model_families: list[str] | None = None
    model_type: str = ""
    file_type: str = ""
    renderer: str | UnsetType = UNSET
    parser: str | UnsetType = UNSET
    requires: str | UnsetType = UNSET
    context_length: int | UnsetType = UNSET
    embedding_length: int | UnsetType = UNSET
    architecture: str = "amd64"
    os: str = "linux"
    rootfs: RootFS = msgspec.field(default_factory=RootFS)


_manifest_decoder = msgspec.json.Decoder(Manifest)
_config_decoder = msgspec.json.Decoder(ModelConfig)
_encoder = msgspec.json.Encoder()


def decode_manifest(data: bytes) -> Manifest:
    """Parse and check manifest bytes: StoreError if malformed, InvalidDigest for a bad digest."""
    try:
        manifest = _manifest_decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise StoreError(f"malformed manifest: {exc}") from exc
    for layer in manifest.all_layers:
        layer.digest = parse_digest(layer.digest)
        if layer.size < 0:
            raise StoreError(f"malformed manifest: layer {layer.digest} has a negative size")
    return manifest


def encode_manifest(manifest: Manifest) -> bytes:
    return _encoder.encode(manifest)


def decode_config(data: bytes) -> ModelConfig:
    """The config blob; an unreadable one reads as an empty config (details are cosmetic)."""
    try:
        return _config_decoder.decode(data)
    except msgspec.MsgspecError:
        return ModelConfig()


def encode_config(config: ModelConfig) -> bytes:
    return _encoder.encode(config)
