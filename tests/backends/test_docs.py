"""The hooks are documented: every spec's docstring, CONTRIBUTING.md, and a working example."""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pluggy
import pytest
from llmrt.backends import BackendManager, DeviceKind, Status, hookspecs, model_sizes
from llmrt.backends.manager import ENTRY_POINT_GROUP
from llmrt.runtime import native

ROOT = Path(__file__).resolve().parents[2]
SPEC_NAMES = sorted(n for n in dir(hookspecs) if n.startswith("llmrt_"))


def spec_opts(name: str) -> dict:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    return dict(pm.parse_hookspec_opts(hookspecs, name) or {})


def test_there_are_specs_and_they_are_all_marked():
    assert SPEC_NAMES == ["llmrt_backend_info", "llmrt_backend_plan", "llmrt_backend_probe"]
    assert all(spec_opts(n) for n in SPEC_NAMES)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_spec_is_fully_documented(name: str):
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn) or ""
    for section in ("Purpose:", "Parameters:", "Returns:", "firstresult:", "Added in: llmrt "):
        assert section in doc, f"{name} docstring lacks {section!r}"
    params = list(inspect.signature(fn).parameters)
    for p in params:
        assert re.search(rf"^\s+{p}: \S", doc, re.M), f"{name} does not document {p!r}"
    if not params:
        assert "Parameters: none." in doc
    firstresult = spec_opts(name)["firstresult"]
    assert f"firstresult: {'yes' if firstresult else 'no'}" in doc
    assert all(a is not inspect.Parameter.empty for a in inspect.get_annotations(fn).values())
    assert "return" in inspect.get_annotations(fn), f"{name} has no return type"


def contributing_section() -> str:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    return text.split("## Add a backend plugin", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_contributing_explains_every_hook(name: str):
    assert name in contributing_section()


def docstring_blocks() -> list[str]:
    """The ``::`` literal blocks of the hookspecs module docstring, dedented."""
    doc = hookspecs.__doc__ or ""
    blocks = []
    for m in re.finditer(r"::\n\n((?:    .*\n|\n)+)", doc):
        blocks.append("\n".join(line[4:] for line in m.group(1).splitlines()))
    return blocks


def test_example_plugin_in_the_docs_works(tmp_path: Path, monkeypatch, smollm2_path: Path):
    code, pyproject = docstring_blocks()[:2]
    project = tomllib.loads(pyproject)
    [(name, module)] = project["project"]["entry-points"][ENTRY_POINT_GROUP].items()
    (tmp_path / f"{module}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    cpu = EntryPoint("cpu", "llmrt.backends.plugins.cpu", ENTRY_POINT_GROUP)
    m = BackendManager(native.native_dir(), env={},
                       eps=[cpu, EntryPoint(name, module, ENTRY_POINT_GROUP)])
    assert not m.failures and name in m.names
    probe = m.probe(name)
    assert probe.status is Status.AVAILABLE and probe.devices[0].kind is DeviceKind.ACCEL
    assert m.report(name).why_not == "libggml-example.so was not built"
    plan = m.plan(name, model_sizes.read(smollm2_path), num_ctx=4096)
    assert plan.full and plan.backend == name
