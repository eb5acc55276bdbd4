from __future__ import annotations

import msgspec
import pytest
from llmrt.runtime.options import DEFAULTS, Options


def test_precedence_request_over_modelfile_over_defaults():
    modelfile = Options.from_dict({"temperature": 0.2, "stop": "<end>", "num_ctx": 1024})
    request = Options.from_dict({"temperature": 0.9, "unknown_key": 1})
    r = modelfile.merge(request).resolved()
    assert r.temperature == 0.9
    assert r.stop == ["<end>"] and r.num_ctx == 1024
    assert r.top_k == DEFAULTS["top_k"]


def test_wrong_type_names_the_field():
    with pytest.raises(msgspec.ValidationError, match="top_k"):
        Options.from_dict({"top_k": "many"})


def test_backend_is_a_load_time_option():
    from llmrt.runtime.options import LOAD_TIME
    from llmrt.runtime.scheduler import LoadOptions

    assert "backend" in LOAD_TIME and Options().resolved().backend == ""
    auto = LoadOptions.from_options(Options(), default_ctx=512, num_parallel=1)
    asked = LoadOptions.from_options(Options.from_dict({"backend": "vulkan"}), default_ctx=512,
                                     num_parallel=1)
    assert auto.backend == "" and asked.backend == "vulkan" and asked != auto


def test_null_means_unset_as_in_ollama():
    """LangChain's OllamaEmbeddings/ChatOllama send every option, most of them null."""
    o = Options.from_dict({"num_ctx": None, "temperature": None, "top_k": 7, "stop": None})
    assert o.given() == {"top_k": 7}
    assert o.resolved().num_ctx == DEFAULTS["num_ctx"]
