"""Every wire shape lives in api/schema on its one Base; the store's records map onto them."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
from llmrt.api import records, requests, schema
from llmrt.api.app import create_app
from llmrt.api.schema import models as m
from llmrt.api.schema import ollama as ol
from llmrt.runtime.store import CreateRequest, Message, Progress

from .conftest import app_config

ROOT = Path(__file__).resolve().parents[2]

#: Structs outside api/schema, and why they are not HTTP messages. A new Struct anywhere else
#: fails test_every_wire_struct_lives_in_api_schema: put it in api/schema, or say here why not.
NOT_WIRE = {
    "llmrt.runtime.engine.base": "engine-internal messages between the routes and an engine",
    "llmrt.runtime.options": "the runtime's options (the wire carries a plain `options` dict)",
    "llmrt.runtime.store.manifest": "the registry's and the store's manifest and config blobs",
    "llmrt.runtime.store.message": "the Modelfile MESSAGE layer blob on disk",
    "llmrt.runtime.store.download": "a partial download's state file on disk",
}


def _import_all() -> None:
    """Every module of every package pyproject.toml ships (but scripts run as programs)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for name in pyproject["tool"]["setuptools"]["packages"]:
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(package.__path__, name + "."):
            leaf = info.name.rsplit(".", 1)[-1]
            if not info.ispkg and leaf != "__main__" and not leaf.endswith("_child"):
                importlib.import_module(info.name)


def _structs() -> Iterator[type[msgspec.Struct]]:
    _import_all()
    todo = list(msgspec.Struct.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("llmrt."):
            yield cls


def _wire() -> list[type[msgspec.Struct]]:
    return [c for c in _structs() if c.__module__.startswith("llmrt.api.schema")]


def test_every_wire_struct_lives_in_api_schema():
    outside = {f"{c.__module__}.{c.__qualname__}" for c in _structs()
               if not c.__module__.startswith("llmrt.api.schema")
               and c.__module__ not in NOT_WIRE}
    assert outside == set()
    homes = {c.__module__ for c in _structs()}
    assert set(NOT_WIRE) <= homes, "a NOT_WIRE entry no longer defines a Struct: drop it"


def test_every_wire_struct_derives_from_the_one_base():
    wire = _wire()
    assert len(wire) > 40
    assert [c for c in wire if not issubclass(c, schema.Base)] == []
    assert [c for c in wire if msgspec.Struct in c.__bases__] == [schema.Base]


def _struct_types(t: msgspec.inspect.Type) -> Iterator[type]:
    if isinstance(t, msgspec.inspect.StructType):
        yield t.cls
    for name in ("item_type", "key_type", "value_type"):
        if hasattr(t, name):
            yield from _struct_types(getattr(t, name))
    for sub in getattr(t, "types", ()):
        if isinstance(sub, msgspec.inspect.Type):
            yield from _struct_types(sub)


def test_wire_messages_are_made_of_wire_messages_only():
    for cls in _wire():
        info = msgspec.inspect.type_info(cls)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            for inner in _struct_types(field.type):
                assert inner.__module__.startswith("llmrt.api.schema"), (cls, field.name, inner)


def test_the_schema_package_imports_nothing_of_llmrt():
    home = Path(schema.__file__).parent
    for path in home.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 or node.module in ("__future__", "datetime", "typing",
                                                          "msgspec"), (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert {a.name for a in node.names} <= {"datetime", "msgspec"}, path.name


def test_a_decoder_is_built_once_per_type_and_names_the_bad_field():
    req = requests.decode(b'{"model":"x","prompt":"hi","extra":1}', ol.GenerateRequest)
    assert (req.model, req.prompt) == ("x", "hi")  # unknown fields ignored, as Ollama does
    dec = requests._decoders[ol.GenerateRequest]
    requests.decode(b'{"model":"y"}', ol.GenerateRequest)
    assert requests._decoders[ol.GenerateRequest] is dec
    with pytest.raises(msgspec.ValidationError, match=r"`role` - at `\$\.messages\[0\]`"):
        requests.decode(b'{"model":"x","messages":[{"content":"hi"}]}', ol.ChatRequest)


def test_progress_records_are_ollamas():
    enc = msgspec.json.encode
    assert enc(records.progress(Progress("pulling manifest"))) == b'{"status":"pulling manifest"}'
    assert json.loads(enc(records.progress(Progress("pulling 0123456789ab", "sha256:x", 10, 4)))) \
        == {"status": "pulling 0123456789ab", "digest": "sha256:x", "total": 10, "completed": 4}


def test_a_create_request_survives_the_wire():
    """What `llmrt create` sends is what the server hands the store."""
    req = CreateRequest(model="me/x", from_="smollm2:135m", system="Be brief.",
                        messages=[Message("user", "hi"), Message("assistant", "", ["aW1n"])],
                        parameters={"temperature": 0.5}, quantize="q8_0")
    body = msgspec.json.encode(records.create_body(req))
    raw = json.loads(body)
    assert raw["from"] == "smollm2:135m" and "from_" not in raw and "stream" not in raw
    assert raw["messages"] == [{"role": "user", "content": "hi"},
                               {"role": "assistant", "images": ["aW1n"]}]
    back = records.create_request(requests.decode(body, m.CreateRequest))
    assert back == req


@pytest.mark.anyio
async def test_details_are_the_same_in_tags_show_and_ps(anyio_backend):
    app = create_app(app_config(engine="inprocess"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                     timeout=120) as c:
            r = await c.post("/api/generate", json={"model": "smollm2:135m"})  # load only
            assert r.status_code == 200
            shown = (await c.post("/api/show", json={"model": "smollm2:135m"})).json()
            [tagged] = [e for e in (await c.get("/api/tags")).json()["models"]
                        if e["name"] == "smollm2:135m"]
            [running] = (await c.get("/api/ps")).json()["models"]
    expected = {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                "parameter_size": "134.52M", "quantization_level": "Q4_1"}
    assert shown["details"] == tagged["details"] == running["details"] == expected
