"""The import graph of llmrt's own modules, read from the source with ast: no cycles, and
the compiled module behind exactly one door.

Every ``import`` statement counts, also those inside functions (a function-local import is a
cycle postponed, not removed); only ``if TYPE_CHECKING:`` blocks are left out, since they never
run. Importing ``a.b.c`` from outside ``a.b`` also runs ``a.b``'s ``__init__``, so it counts as
an edge to that package too.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOTS = ("llmrt", "llmrt.runtime", "llmrt.backends", "llmrt.api")
COMPILED = "llmrt.runtime._llama"


def _modules() -> dict[str, Path]:
    """Module name -> source file, for every package root (wherever setuptools maps it)."""
    out: dict[str, Path] = {}
    for root in ROOTS:
        spec = importlib.util.find_spec(root)
        assert spec is not None and spec.submodule_search_locations, root
        for base in map(Path, spec.submodule_search_locations):
            for f in base.rglob("*.py"):
                parts = list(f.relative_to(base).with_suffix("").parts)
                if not all(p.isidentifier() for p in parts):
                    continue
                if parts[-1] == "__init__":
                    parts.pop()
                out[".".join([root, *parts])] = f
    return out


MODULES = _modules()


def _type_checking_only(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement runs (names imported from a module are not modules)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = module.split(".")[: len(module.split(".")) - (node.level - (1 if is_package
                                                                             else 0))]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    subs = [f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in MODULES]
    return subs if len(subs) == len(node.names) else [*subs, prefix]


def imports_of(module: str) -> set[str]:
    """Every module (llmrt's or not) that importing ``module`` runs directly."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_only(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in skip:
            continue
        for target in _targets(module, path.name == "__init__.py", node):
            out.add(target)
            parts = target.split(".")
            for i in range(1, len(parts)):  # the parent packages' __init__ run first
                parent = ".".join(parts[:i])
                if parent in MODULES and not (module + ".").startswith(parent + "."):
                    out.add(parent)
    out.discard(module)
    return out


GRAPH = {m: {t for t in imports_of(m) if t in MODULES} for m in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a self-loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_whole_package():
    for name in ("llmrt", "llmrt.cli.run", "llmrt.runtime.loader", "llmrt.runtime.store.create",
                 "llmrt.runtime._bindings._lib", "llmrt.backends.plugins.cpu", "llmrt.api.app"):
        assert name in MODULES, name
    # a function-local import is an edge: the backend manager loads the binding in a method
    assert "llmrt.runtime._bindings.backend" in GRAPH["llmrt.backends.manager"]


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert cycles(GRAPH) == []


def test_only_the_binding_loader_imports_the_compiled_module():
    importers = sorted(m for m in MODULES if COMPILED in imports_of(m))
    assert importers == ["llmrt.runtime._bindings._lib"]


def test_backends_use_no_runtime_internals_beyond_the_binding_layer():
    """The plugins and their manager reach llama.cpp only through runtime/_bindings; the error
    hierarchy and the pure-Python GGUF header reader are the other runtime modules they use."""
    allowed = {"llmrt.runtime", "llmrt.runtime.errors", "llmrt.runtime.gguf"}
    used = {t for m in MODULES if m.startswith("llmrt.backends")
            for t in GRAPH[m] if t.startswith("llmrt.runtime")}
    assert {t for t in used if t not in allowed
            and not t.startswith("llmrt.runtime._bindings")} == set()


@pytest.mark.parametrize("module", ["llmrt.runtime.engine.base", "llmrt.runtime.scheduler",
                                    "llmrt.runtime.loader", "llmrt.api.app", "llmrt"])
def test_the_server_side_does_not_reach_the_binding_at_import(module: str):
    """What must import without the extension reaches ``_bindings`` only through function-local
    imports (the in-process engine, made on demand). tests/api/test_no_extension.py runs it."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(_top_level_imports(m))
    assert not [m for m in seen if m.startswith("llmrt.runtime._bindings._lib")]


def _top_level_imports(module: str) -> set[str]:
    """Like ``imports_of`` but only statements that run at import time (module level,
    including under ``if``/``try``, not inside functions or classes' methods)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_only(tree)
    out: set[str] = set()

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                for t in _targets(module, path.name == "__init__.py", node):
                    parts = t.split(".")
                    out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        walk(child.body if isinstance(child, ast.ExceptHandler) else [child])
            elif isinstance(node, ast.ClassDef):
                walk(node.body)

    walk(tree.body)
    return {m for m in out if m in MODULES and m != module}
