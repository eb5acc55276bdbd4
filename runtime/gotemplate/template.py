"""``Template``: parse Go template source once, execute it on data many times."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import TemplateError
from . import nodes as n
from .builtins import BUILTINS, Func
from .exec import Budget, MissingKey, execute
from .parser import parse


class Template:
    """A parsed Go ``text/template`` with its ``define``/``block`` templates.

    ``funcs`` adds functions to Go's builtins (they must be known at parse time, as in Go);
    ``missingkey`` is Go's ``Option("missingkey=...")``: ``default`` (a missing map key is "no
    value"), ``zero`` (the map's zero element: nil for ``map[string]any``) or ``error``.
    """

    def __init__(self, source: str, funcs: Mapping[str, Func] | None = None, *,
                 missingkey: MissingKey = "default") -> None:
        self.source = source
        self.funcs: dict[str, Func] = {**BUILTINS, **(funcs or {})}
        self.missingkey: MissingKey = missingkey
        try:
            parsed = parse(source, self.funcs)
        except RecursionError:
            raise TemplateError("template: nests too deeply to parse") from None
        self.root: n.ListNode = parsed.root
        self.defs: dict[str, n.ListNode] = parsed.defs

    def execute(self, data: Any, *, budget: Budget | None = None) -> str:
        return execute(self.source, self.root, self.defs, data, funcs=self.funcs,
                       missingkey=self.missingkey, budget=budget or Budget())

    def execute_tree(self, root: n.ListNode, data: Any, *, funcs: Mapping[str, Func],
                     defs: Mapping[str, n.ListNode], missingkey: MissingKey,
                     budget: Budget | None = None) -> str:
        """Execute another tree built from this template's nodes (positions stay valid)."""
        return execute(self.source, root, defs, data, funcs=funcs, missingkey=missingkey,
                       budget=budget or Budget())
