"""create: from a stored model, a local GGUF, a blob; quantize in-process; clear errors."""

from __future__ import annotations

import json

import pytest
from llmrt.runtime._bindings.quantize import QuantizeError
from llmrt.runtime.errors import InvalidDigest, ModelfileError, ModelNotFound, StoreError
from llmrt.runtime.llm import LLM
from llmrt.runtime.model import Model
from llmrt.runtime.store import CreateRequest, Message, create, create_from_modelfile
from llmrt.runtime.store import manifest as mt
from llmrt.runtime.store.create import prepare_modelfile


def statuses(progress) -> list[str]:
    return [p.status for p in progress]


def generate(path, **opts) -> str:
    with LLM(path, num_ctx=512, num_thread=2) as llm:
        result = llm.generate("The capital of France is", num_predict=4, temperature=0, **opts)
    assert result.eval_count > 0
    return result.text


@pytest.mark.parametrize(("qtype", "level"), [("q8_0", "Q8_0"), ("Q4_0", "Q4_0")])
def test_create_quantize_gives_a_working_model(smol_store, qtype, level):
    records = list(create(CreateRequest(model=f"smol-{qtype}", from_="smollm2:135m",
                                        quantize=qtype), store=smol_store))
    quantizing = [p for p in records if p.status.startswith("quantizing")]
    assert quantizing[0].status == f"quantizing Q4_1 model to {level}"
    assert quantizing[-1].total == quantizing[-1].completed == 272  # SmolLM2's tensors
    assert [p.status for p in records[-2:]] == ["writing manifest", "success"]

    info = smol_store.show(f"smol-{qtype}")
    assert info.details.quantization_level == level
    model = smol_store.resolve(f"smol-{qtype}")
    with Model(model.model_path, vocab_only=True) as m:
        assert m.info.quantization == level  # llama.cpp's own reading of the new file
    assert model.template == smol_store.resolve("smollm2:135m").template  # inherited
    assert generate(model.model_path).strip()


def test_unsupported_quantization_type_fails_before_anything_is_written(smol_store):
    before = smol_store.blobs.digests()
    with pytest.raises(QuantizeError, match="unsupported quantization type 'q3_banana'.*Q4_K_M"):
        list(create(CreateRequest(model="x", from_="smollm2:135m", quantize="q3_banana"),
                    store=smol_store))
    assert smol_store.blobs.digests() == before and smol_store.find("x") is None


def test_create_layers_over_the_base(smol_store):
    req = CreateRequest(model="alice/terse:v1", from_="smollm2:135m", system="Be terse.",
                        parameters={"temperature": "0.25", "num_ctx": 1024},
                        messages=[Message("user", "hi"), Message("assistant", "hello")],
                        license="MIT")
    records = statuses(create(req, store=smol_store))
    assert records[-2:] == ["writing manifest", "success"]
    assert any(s.startswith("using existing layer sha256:") for s in records)
    assert any(s.startswith("creating new layer sha256:") for s in records)
    m = smol_store.resolve("alice/terse:v1")
    base = smol_store.resolve("smollm2:135m")
    assert m.model_path == base.model_path
    assert m.system == "Be terse." and m.license == ["MIT"]
    assert m.messages == [Message("user", "hi"), Message("assistant", "hello")]
    # request parameters are merged over the base's
    assert m.parameters == {"stop": ["<|im_start|>", "<|im_end|>"], "temperature": 0.25,
                            "num_ctx": 1024}
    model_layer = m.manifest.first(mt.MODEL)
    assert model_layer.from_ == "smollm2:135m"  # lets push mount it from the base
    config = json.loads(smol_store.blob_path(m.manifest.config.digest).read_bytes())
    assert config["rootfs"]["diff_ids"] == [la.digest for la in m.manifest.layers]


def test_create_from_a_local_gguf_path_via_modelfile(empty_store, smollm2_path, tmp_path):
    (tmp_path / "model.gguf").symlink_to(smollm2_path)
    text = "FROM ./model.gguf\nPARAMETER stop <|im_end|>\nSYSTEM Hi.\n"
    records = statuses(create_from_modelfile("local", text, base_dir=tmp_path,
                                             store=empty_store))
    assert records[0].startswith("copying file sha256:")
    assert records[-1] == "success"
    m = empty_store.resolve("local")
    assert m.model_path.read_bytes() == smollm2_path.read_bytes()
    assert m.template_format == "jinja" and "<|im_start|>" in m.template  # from the GGUF
    assert m.system == "Hi." and m.options.stop == ["<|im_end|>"]


def test_show_modelfile_recreates_the_same_model(smol_store):
    list(create(CreateRequest(model="orig", from_="smollm2:135m", system="Line one\nline two",
                              parameters={"top_k": 7}), store=smol_store))
    text = smol_store.show("orig").modelfile
    list(create_from_modelfile("again", text, store=smol_store))
    a, b = smol_store.resolve("orig"), smol_store.resolve("again")
    assert (a.model_path, a.template, a.system, a.parameters, a.messages) == (
        b.model_path, b.template, b.system, b.parameters, b.messages)


def test_create_from_a_blob_digest(smol_store):
    digest = smol_store.resolve("smollm2:135m").manifest.first(mt.MODEL).digest
    list(create(CreateRequest(model="from-blob", from_=digest), store=smol_store))
    list(create(CreateRequest(model="from-files", files={"m.gguf": digest}), store=smol_store))
    for name in ("from-blob", "from-files"):
        m = smol_store.resolve(name)
        assert m.manifest.first(mt.MODEL).digest == digest
        assert m.template_format == "jinja"


def test_legacy_modelfile_field(smol_store):
    req = CreateRequest(name="legacy", modelfile="FROM smollm2:135m\nSYSTEM old style\n")
    assert statuses(create(req, store=smol_store))[-1] == "success"
    assert smol_store.resolve("legacy").system == "old style"


def test_prepare_modelfile_is_what_a_client_uploads(smollm2_path, tmp_path):
    req, uploads = prepare_modelfile("n", f"FROM {smollm2_path}\n", base_dir=tmp_path)
    [(digest, path)] = uploads.items()
    assert req.files == {smollm2_path.name: digest} and path == smollm2_path
    assert req.from_ == ""
    req, uploads = prepare_modelfile("n", "FROM smollm2:135m\n")
    assert req.from_ == "smollm2:135m" and uploads == {}


@pytest.mark.parametrize(("request_", "error", "match"), [
    (CreateRequest(model="x", from_="no-such-model"), ModelNotFound, "no-such-model"),
    (CreateRequest(model="x", files={"m.gguf": "sha256:" + "0" * 64}), StoreError,
     "upload it first"),
    (CreateRequest(model="x", files={"m.gguf": "../../etc/passwd"}), InvalidDigest, "m.gguf"),
    (CreateRequest(model="x"), StoreError, "no model"),
    (CreateRequest(model="../x", from_="smollm2:135m"), StoreError, "invalid model name"),
    (CreateRequest(model="x", from_="smollm2:135m", parameters={"bogus": 1}), ModelfileError,
     "unknown parameter"),
])
def test_create_errors(smol_store, request_, error, match):
    names_before = smol_store.names()
    with pytest.raises(error, match=match):
        list(create(request_, store=smol_store))
    assert smol_store.names() == names_before


def test_files_must_be_gguf(smol_store):
    digest = smol_store.write_blob(None, b"not a gguf at all")
    with pytest.raises(StoreError, match="only GGUF"):
        list(create(CreateRequest(model="x", files={"model.safetensors": digest}),
                    store=smol_store))
