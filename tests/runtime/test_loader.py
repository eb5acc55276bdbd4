"""The one resolver and loading path: store names, bundled names and paths, for the library,
the server's catalog and Modelfile FROM alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmrt.runtime import bundled, loader
from llmrt.runtime.catalog import Catalog
from llmrt.runtime.errors import ModelNotFound
from llmrt.runtime.llm import LLM
from llmrt.runtime.store import CreateRequest, Store, create

import llmrt

PROMPT = "The capital of France is"


def greedy(llm: LLM) -> str:
    return llm.generate(PROMPT, num_predict=4, temperature=0).text


@pytest.fixture(scope="module")
def created() -> str:
    """A model made with the existing create path in the default store (``llmrt list``)."""
    name = "mymodel:v1"
    records = list(create(CreateRequest(model=name, from_="smollm2:135m", system="Be brief.",
                                        parameters={"temperature": 0.25})))
    assert records[-1].status == "success"
    assert name in [m.name for m in Store().list()]
    return name


def test_load_a_model_created_in_the_store(created: str, smollm2: LLM):
    spec = loader.resolve(created)
    stored = Store().resolve(created)
    assert spec.path == stored.model_path and spec.system == "Be brief."
    assert spec.options.temperature == 0.25 and spec.name == "mymodel:v1"
    with llmrt.load(created, num_ctx=256, num_thread=2) as llm:
        assert Path(llm.model.path) == stored.model_path
        assert greedy(llm) == greedy(smollm2)  # the same weights as the bundled file


def test_load_a_gguf_path(smollm2_path: Path, smollm2: LLM):
    spec = loader.resolve(smollm2_path)
    assert spec.path == smollm2_path and spec.template is None and spec.system is None
    assert loader.resolve(str(smollm2_path)).path == smollm2_path
    with llmrt.load(str(smollm2_path), num_ctx=256, num_thread=2) as llm:
        assert greedy(llm) == greedy(smollm2)


def test_a_bundled_name_is_imported_into_the_store_and_loaded(smollm2: LLM):
    spec = loader.resolve("smollm2:135m")
    model = bundled.lookup("smollm2:135m")
    assert model is not None and spec.digest and spec.name == "smollm2:135m"
    assert spec.path == Store().blobs.path("sha256:" + model.sha256)
    alias = loader.resolve("smollm2")  # stored as smollm2:latest, as a pull of it would be
    assert alias.name == "smollm2:latest" and alias.path == spec.path
    assert spec.options.stop == ["<|im_start|>", "<|im_end|>"]  # the library's PARAMS
    with llmrt.load("smollm2:135m", num_ctx=256, num_thread=2) as llm:
        assert Path(llm.model.path) == spec.path
        assert greedy(llm) == greedy(smollm2)


def test_the_server_and_the_library_resolve_alike(created: str):
    catalog = Catalog()
    for name in (created, "smollm2:135m"):
        assert catalog.resolve(name) == loader.resolve(name)


def test_an_unknown_name_fails_in_ollamas_words_everywhere():
    message = 'model "nonesuch:7b" not found, try pulling it first'
    with pytest.raises(ModelNotFound, match=message):
        loader.resolve("nonesuch:7b")
    with pytest.raises(ModelNotFound, match=message):
        llmrt.load("nonesuch:7b")
    with pytest.raises(ModelNotFound, match=message):
        list(create(CreateRequest(model="child", from_="nonesuch:7b")))
    assert Store().find("child") is None


def test_the_server_takes_names_not_paths(smollm2_path: Path):
    with pytest.raises(ValueError):  # InvalidName (a 400), not a file opened from a request
        Catalog().resolve(str(smollm2_path))


def test_modelfile_from_a_created_model_goes_through_the_same_resolver(created: str):
    records = list(create(CreateRequest(model="mymodel:child", from_=created,
                                        system="Be briefer.")))
    assert records[-1].status == "success"
    child = loader.resolve("mymodel:child")
    assert child.path == loader.resolve(created).path  # the base's model layer, reused
    assert child.system == "Be briefer." and child.options.temperature == 0.25
