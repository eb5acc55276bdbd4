"""An existing Ollama store (built here by hand, byte for byte as Ollama writes one) is listed,
shown, resolved and run without conversion, and without being modified."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from llmrt.runtime.llm import LLM
from llmrt.runtime.store import Store

GO_TEMPLATE = ("{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
               "{{ end }}<|im_start|>assistant\n")
# Go's encoder escapes < and > and ends with a newline: what Ollama's params blobs look like
PARAMS = b'{"stop":["\\u003c|im_start|\\u003e","\\u003c|im_end|\\u003e"],"temperature":0.2}\n'
LICENSE = "Apache License 2.0"
SYSTEM = "You are a tiny helpful model."


def _blob(root: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (root / "blobs" / digest.replace(":", "-")).write_bytes(data)
    return digest, len(data)


def _layer(media: str, digest: str, size: int) -> str:
    return f'{{"mediaType":"{media}","digest":"{digest}","size":{size}}}'


@pytest.fixture(scope="module")
def ollama_root(tmp_path_factory, smollm2_path) -> Path:
    root = tmp_path_factory.mktemp("dot-ollama") / "models"
    (root / "blobs").mkdir(parents=True)
    gguf = smollm2_path.read_bytes()
    layers = [
        ("application/vnd.ollama.image.model", *_blob(root, gguf)),
        ("application/vnd.ollama.image.template", *_blob(root, GO_TEMPLATE.encode())),
        ("application/vnd.ollama.image.license", *_blob(root, LICENSE.encode())),
        ("application/vnd.ollama.image.system", *_blob(root, SYSTEM.encode())),
        ("application/vnd.ollama.image.params", *_blob(root, PARAMS)),
    ]
    config = json.dumps({
        "model_format": "gguf", "model_family": "llama", "model_families": ["llama"],
        "model_type": "134.52M", "file_type": "Q4_1", "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [d for _, d, _ in layers]},
    }, separators=(",", ":")).encode()
    cfg = _blob(root, config)
    manifest = ('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2'
                '+json","config":' + _layer("application/vnd.docker.container.image.v1+json", *cfg)
                + ',"layers":[' + ",".join(_layer(*la) for la in layers) + "]}")
    for host, ns, model, tag in (("registry.ollama.ai", "library", "smollm2", "latest"),
                                 ("registry.ollama.ai", "alice", "Tiny", "v1")):
        path = root / "manifests" / host / ns / model / tag
        path.parent.mkdir(parents=True)
        path.write_text(manifest)
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def ollama_store(ollama_root, tmp_path, monkeypatch) -> Store:
    copy = tmp_path / "models"
    shutil.copytree(ollama_root, copy, copy_function=os.link)
    monkeypatch.delenv("LLMRT_MODELS", raising=False)
    monkeypatch.setenv("OLLAMA_MODELS", str(copy))
    return Store()


def test_an_ollama_store_is_listed(ollama_store):
    entries = {e.name: e for e in ollama_store.list()}
    assert set(entries) == {"smollm2:latest", "alice/Tiny:v1"}
    raw = (ollama_store.root / "manifests/registry.ollama.ai/library/smollm2/latest").read_bytes()
    e = entries["smollm2:latest"]
    assert e.digest == hashlib.sha256(raw).hexdigest()
    assert (e.details.family, e.details.parameter_size, e.details.quantization_level) == (
        "llama", "134.52M", "Q4_1")


def test_an_ollama_store_is_shown(ollama_store):
    info = ollama_store.show("alice/tiny:V1")
    assert info.template == GO_TEMPLATE
    assert info.system == SYSTEM and info.license == LICENSE
    assert info.parameters.splitlines() == [
        'stop                           "<|im_start|>"',
        'stop                           "<|im_end|>"',
        "temperature                    0.2"]
    assert "TEMPLATE \"\"\"{{- range .Messages }}" in info.modelfile
    assert "PARAMETER temperature 0.2" in info.modelfile


def test_an_ollama_store_is_resolved_and_run_unchanged(ollama_store):
    before = _tree(ollama_store.root)
    m = ollama_store.resolve("smollm2")
    assert m.template_format == "go" and m.chat_template is None  # the GGUF's template is used
    assert m.options.stop == ["<|im_start|>", "<|im_end|>"] and m.options.temperature == 0.2
    with LLM(m.model_path, num_ctx=512, num_thread=2, **m.options.given()) as llm:
        messages = [{"role": "system", "content": m.system},
                    {"role": "user", "content": "Say hi."}]
        out = llm.chat(messages, num_predict=6, temperature=0)
    assert out.eval_count > 0 and out.text.strip()
    assert _tree(ollama_store.root) == before
