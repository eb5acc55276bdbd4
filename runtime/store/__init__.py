"""The model store: Ollama's on-disk layout, registry pull/push, Modelfiles, create + quantize.

    from llmrt.runtime.store import Store, pull, push, create, CreateRequest

    for p in pull("smollm2:135m"):           # embedded default: no registry needed
        print(p.status)
    model = Store().resolve("smollm2:135m")  # -> ResolvedModel(model_path, template, options…)

What the HTTP routes call (each streams ``Progress`` records or returns a plain record that
api/records.py maps onto its wire message):

    /api/pull    pull(name, insecure=…)                 -> Iterator[Progress]
    /api/push    push(name, insecure=…)                 -> Iterator[Progress]
    /api/create  create(CreateRequest)                  -> Iterator[Progress]
    /api/blobs   Store.has_blob(digest), Store.write_blob(digest, chunks) / Store.blobs.writer
    /api/tags    Store.list()                           -> list[ModelEntry]
    /api/show    Store.show(name, verbose=…)            -> ShowInfo
    /api/copy    Store.copy(source, destination)
    /api/delete  Store.delete(name)                     (prunes unreferenced blobs)
    runner       Store.resolve(name)                    -> ResolvedModel
"""

from __future__ import annotations

from .auth import Credentials
from .create import CreateRequest, create, create_from_modelfile, prepare_modelfile
from .defaults import import_default, is_default
from .info import ModelDetails, ModelEntry, ShowInfo
from .manifest import Layer, Manifest, ModelConfig
from .message import Message
from .modelfile import Modelfile, format_modelfile, parse_modelfile
from .names import Name, parse_name
from .paths import models_dir, parse_digest
from .progress import Progress
from .quantize import supported_types
from .registry import pull, push
from .store import ResolvedModel, Store
from .transfer import TransferOptions

__all__ = [
    "CreateRequest", "Credentials", "Layer", "Manifest", "Message", "ModelConfig", "ModelDetails",
    "ModelEntry", "Modelfile", "Name", "Progress", "ResolvedModel", "ShowInfo", "Store",
    "TransferOptions", "create", "create_from_modelfile", "format_modelfile", "import_default",
    "is_default", "models_dir", "parse_digest", "parse_modelfile", "parse_name",
    "prepare_modelfile", "pull", "push", "supported_types",
]
