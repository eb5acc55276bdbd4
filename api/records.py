"""The runtime's records as wire messages, and /api/create's body as the store's request.

The store and the scheduler know nothing of HTTP: they return plain records
(runtime/store/info.py, progress.py, create.py); these functions are the one place that maps
them onto the Structs of api/schema.
"""

from __future__ import annotations

import msgspec
from llmrt.runtime import store

from .schema import models as m
from .schema.ollama import Message


def details(d: store.ModelDetails) -> m.ModelDetails:
    return msgspec.convert(d, m.ModelDetails, from_attributes=True)


def entries(records: list[store.ModelEntry]) -> m.TagsResponse:
    return m.TagsResponse(models=msgspec.convert(records, list[m.ModelEntry],
                                                 from_attributes=True))


def show(info: store.ShowInfo) -> m.ShowResponse:
    return m.ShowResponse(
        license=info.license, modelfile=info.modelfile, parameters=info.parameters,
        template=info.template, system=info.system, details=details(info.details),
        messages=[message(x) for x in info.messages], model_info=info.model_info,
        projector_info=info.projector_info, capabilities=info.capabilities,
        modified_at=info.modified_at)


def progress(p: store.Progress) -> m.ProgressResponse:
    return m.ProgressResponse(status=p.status, digest=p.digest, total=p.total,
                              completed=p.completed)


def message(x: store.Message) -> Message:
    """A stored Modelfile MESSAGE as a chat message (no ``images`` when it has none)."""
    return Message(role=x.role, content=x.content, images=x.images or None)


def create_request(req: m.CreateRequest) -> store.CreateRequest:
    """/api/create's body as what the store creates (``stream`` is the route's business)."""
    fields = msgspec.structs.asdict(req)
    del fields["stream"]
    if req.messages is not None:
        fields["messages"] = [store.Message(x.role, x.content, x.images or [])
                              for x in req.messages]
    return store.CreateRequest(**fields)


def create_body(req: store.CreateRequest) -> m.CreateRequest:
    """The wire body of a create request built on the client side (``llmrt create``)."""
    wire = msgspec.convert(req, m.CreateRequest, from_attributes=True)
    if req.messages is not None:
        wire.messages = [message(x) for x in req.messages]
    return wire
