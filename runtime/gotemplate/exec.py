"""Executing a parse tree on data, with Go's semantics and a time and output budget.

Mirrors Go's ``text/template`` evaluator: pipelines pass their value as the last argument of the
next command, ``interface{}`` values are unwrapped after each command (a nil one becomes "no
value"), fields are struct fields, methods or map keys, variables are scoped to their control
structure, ``{{template}}`` calls see only ``$`` (their dot), and errors name the line, the
column and the node being executed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import TemplateBudgetExceeded, TemplateError
from . import nodes as n
from .builtins import BUILTINS, Func, FuncError
from .gofmt import print_action
from .lexer import position
from .values import NO_VALUE, GoFunc, GoList, GoMap, GoNilPointer, GoStruct, truth, type_name

MissingKey = Literal["default", "zero", "error"]
MAX_TEMPLATE_DEPTH = 100
_MISSING: Any = object()  # "no final value" (Go's missingVal), distinct from NO_VALUE


@dataclass(frozen=True)
class Budget:
    """Limits of one execution: wall-clock seconds and characters written."""

    max_seconds: float = 10.0
    max_output: int = 16 * 1024 * 1024


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def execute(source: str, root: n.ListNode, defs: Mapping[str, n.ListNode], data: Any, *,
            funcs: Mapping[str, Func], missingkey: MissingKey = "default",
            budget: Budget = Budget()) -> str:
    state = _State(source, defs, funcs, missingkey, budget, data)
    try:
        state.walk(data, root)
    except RecursionError:
        raise TemplateError("template: execution nests too deeply") from None
    return "".join(state.out)


class _State:
    def __init__(self, source: str, defs: Mapping[str, n.ListNode], funcs: Mapping[str, Func],
                 missingkey: MissingKey, budget: Budget, data: Any) -> None:
        self.source = source
        self.defs = defs
        self.funcs = funcs
        self.missingkey = missingkey
        self.budget = budget
        self.deadline = time.monotonic() + budget.max_seconds
        self.vars: list[list[Any]] = [["$", data]]
        self.node: n.Node | None = None
        self.depth = 0
        self.out: list[str] = []
        self.size = 0
        self.ticks = 0

    # -- plumbing ---------------------------------------------------------------------------
    def at(self, node: n.Node) -> None:
        self.node = node

    def error(self, message: str, cls: type[TemplateError] = TemplateError) -> TemplateError:
        if self.node is None:
            return cls(f"template: {message}")
        line, col = position(self.source, self.node.pos)
        return cls(f"template: line {line}, column {col}: executing at "
                   f"<{n.describe(self.node)}>: {message}")

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks & 255 == 0 and time.monotonic() > self.deadline:
            raise self.error(f"execution exceeded its time budget of "
                             f"{self.budget.max_seconds:g} s", TemplateBudgetExceeded)

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.budget.max_output:
            raise self.error(f"output exceeds the limit of {self.budget.max_output} characters",
                             TemplateBudgetExceeded)
        self.out.append(text)

    def var_value(self, name: str) -> Any:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        raise self.error(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        raise self.error(f"undefined variable: {name}")

    # -- walking ----------------------------------------------------------------------------
    def walk(self, dot: Any, node: n.Node) -> None:
        self.tick()
        self.at(node)
        if isinstance(node, n.ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, n.TextNode):
            self.write(node.text)
        elif isinstance(node, n.ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                if isinstance(value, GoFunc):
                    raise self.error(f"can't print {n.describe(node.pipe)} of type "
                                     f"{value.go_type}")
                self.write(print_action(value))
        elif isinstance(node, n.IfNode | n.WithNode):
            mark = len(self.vars)
            value = self.eval_pipeline(dot, node.pipe)
            if truth(value):
                self.walk(value if isinstance(node, n.WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
            del self.vars[mark:]
        elif isinstance(node, n.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, n.TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue
        else:
            raise self.error(f"unknown node: {type(node).__name__}")

    def walk_range(self, dot: Any, node: n.RangeNode) -> None:
        self.at(node)
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            inner = len(self.vars)
            decl = node.pipe.decl

            def one(index: Any, elem: Any) -> None:
                if decl:
                    if node.pipe.is_assign:
                        self.set_var(decl[-1 if len(decl) > 1 else 0].ident[0], elem)
                        if len(decl) > 1:
                            self.set_var(decl[0].ident[0], index)
                    else:
                        self.vars[-1][1] = elem
                        if len(decl) > 1:
                            self.vars[-2][1] = index
                try:
                    self.walk(elem, node.list)
                except _Continue:
                    pass
                finally:
                    del self.vars[inner:]

            ran = False
            try:
                if isinstance(value, list | tuple | bytes):
                    for i, elem in enumerate(value):
                        ran = True
                        one(i, elem)
                elif isinstance(value, dict):
                    for key in sorted(value, key=_map_order):
                        ran = True
                        one(key, value[key])
                elif isinstance(value, int) and not isinstance(value, bool):
                    if len(decl) > 1:
                        raise self.error(
                            f"can't use {value} to iterate over more than one variable")
                    for i in range(value):
                        ran = True
                        self.tick()
                        one(i, i)
                elif value is not NO_VALUE:
                    self.at(node)
                    raise self.error(f"range can't iterate over {print_action(value)}")
            except _Break:
                ran = True
            if not ran and node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_template(self, dot: Any, node: n.TemplateNode) -> None:
        self.at(node)
        body = self.defs.get(node.name)
        if body is None:
            raise self.error(f'template "{node.name}" not defined')
        if self.depth >= MAX_TEMPLATE_DEPTH:
            raise self.error(f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})")
        value = self.eval_pipeline(dot, node.pipe)
        saved = self.vars
        self.vars = [["$", value]]
        self.depth += 1
        try:
            self.walk(value, body)
        finally:
            self.vars = saved
            self.depth -= 1

    # -- evaluation -------------------------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: n.PipeNode | None) -> Any:
        if pipe is None:
            return NO_VALUE
        self.at(pipe)
        value = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:  # interface{} holding nil: no value
                value = NO_VALUE
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.vars.append([var.ident[0], value])
        return value

    def not_a_function(self, args: list[n.Node] | None, final: Any) -> None:
        if (args is not None and len(args) > 1) or final is not _MISSING:
            assert args
            raise self.error(f"can't give argument to non-function {n.describe(args[0])}")

    def eval_command(self, dot: Any, cmd: n.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, n.ChainNode):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, n.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, n.VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.BoolNode):
            return first.value
        if isinstance(first, n.DotNode):
            return dot
        if isinstance(first, n.NilNode):
            raise self.error("nil is not a command")
        if isinstance(first, n.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, n.StringNode):
            return first.text
        raise self.error(f"can't evaluate command {n.describe(first)!r}")

    def ideal_constant(self, node: n.NumberNode) -> Any:
        self.at(node)
        text = node.text
        hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(
            c in text for c in "pP")
        if node.is_float and not hex_int and text[0] != "'" and any(c in text for c in ".eEpP"):
            return node.float_value
        if node.is_int:
            return node.int_value
        raise self.error(f"{text} overflows int")

    def eval_chain(self, dot: Any, chain: n.ChainNode, args: list[n.Node] | None,
                   final: Any) -> Any:
        if isinstance(chain.node, n.NilNode):
            raise self.error(f"indirection through explicit nil in {n.describe(chain)}")
        base = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, base, chain, chain.fields, args, final)

    def eval_variable(self, dot: Any, var: n.VariableNode, args: list[n.Node] | None,
                      final: Any) -> Any:
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_field_chain(self, dot: Any, receiver: Any, node: n.Node, ident: tuple[str, ...],
                         args: list[n.Node] | None, final: Any) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, _MISSING, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(self, dot: Any, name: str, node: n.Node, args: list[n.Node] | None,
                   final: Any, receiver: Any) -> Any:
        if receiver is NO_VALUE:
            if self.missingkey == "error":
                raise self.error(f"nil data; no entry for key {name!r}")
            return NO_VALUE
        if receiver is None:
            raise self.error(f"nil pointer evaluating interface {{}}.{name}")
        methods = getattr(receiver, "go_methods", None)
        if methods and name in methods:
            attr, params, variadic = methods[name]
            fn = Func(getattr(receiver, attr), params, variadic)
            return self.eval_call(dot, fn, False, node, name, args, final)
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        tname = type_name(receiver)
        if isinstance(receiver, GoStruct):
            if name in receiver.go_fields:
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return receiver.go_field(name)
        elif isinstance(receiver, dict):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.missingkey == "zero":
                return receiver.zero() if isinstance(receiver, GoMap) else None
            if self.missingkey == "error":
                raise self.error(f"map has no entry for key {name!r}")
            return NO_VALUE
        elif isinstance(receiver, GoNilPointer):
            raise self.error(f"nil pointer evaluating {tname}.{name}")
        raise self.error(f"can't evaluate field {name} in type {tname}")

    def eval_function(self, dot: Any, node: n.IdentifierNode, cmd: n.Node,
                      args: list[n.Node] | None, final: Any) -> Any:
        self.at(node)
        fn = self.funcs.get(node.name)
        if fn is None:
            raise self.error(f'"{node.name}" is not a defined function')
        return self.eval_call(dot, fn, BUILTINS.get(node.name) is fn, cmd, node.name, args,
                              final)

    def eval_call(self, dot: Any, fn: Func, builtin: bool, node: n.Node, name: str,
                  args: list[n.Node] | None, final: Any) -> Any:
        rest = args[1:] if args is not None else []
        num_in = len(rest) + (final is not _MISSING)
        if fn.variadic is not None:
            if num_in < len(fn.params):
                raise self.error(f"wrong number of args for {name}: want at least "
                                 f"{len(fn.params)} got {len(rest)}")
        elif num_in != len(fn.params):
            raise self.error(f"wrong number of args for {name}: want {len(fn.params)} "
                             f"got {num_in}")
        if builtin and name in ("and", "or"):
            value: Any = NO_VALUE
            for arg in rest:
                value = self.eval_arg(dot, "value", arg)
                if truth(value) == (name == "or"):
                    return value
            if final is not _MISSING:
                value = self.validate(final, "value")
            return value
        argv = []
        for i, arg in enumerate(rest):
            typ = fn.params[i] if i < len(fn.params) else fn.variadic
            argv.append(self.eval_arg(dot, typ, arg))
        if final is not _MISSING:
            i = num_in - 1
            argv.append(self.validate(final, fn.params[i] if i < len(fn.params) else
                                      fn.variadic))
        try:
            return fn.fn(*argv)
        except FuncError as e:
            self.at(node)
            raise self.error(f"error calling {name}: {e}") from None

    def eval_arg(self, dot: Any, typ: str | None, node: n.Node) -> Any:
        self.at(node)
        if isinstance(node, n.DotNode):
            return self.validate(dot, typ)
        if isinstance(node, n.NilNode):
            if typ == "any":
                return None
            if typ == "value":  # reflect.Value can be nil: the zero (invalid) Value
                return NO_VALUE
            raise self.error(f"cannot assign nil to {_go_type(typ)}")
        if isinstance(node, n.FieldNode):
            return self.validate(
                self.eval_field_chain(dot, dot, node, node.ident, [node], _MISSING), typ)
        if isinstance(node, n.VariableNode):
            return self.validate(self.eval_variable(dot, node, None, _MISSING), typ)
        if isinstance(node, n.PipeNode):
            return self.validate(self.eval_pipeline(dot, node), typ)
        if isinstance(node, n.IdentifierNode):
            return self.validate(self.eval_function(dot, node, node, None, _MISSING), typ)
        if isinstance(node, n.ChainNode):
            return self.validate(self.eval_chain(dot, node, None, _MISSING), typ)
        if typ == "string":
            if isinstance(node, n.StringNode):
                return node.text
            raise self.error(f"expected string; found {n.describe(node)}")
        if isinstance(node, n.BoolNode):
            return node.value
        if isinstance(node, n.NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, n.StringNode):
            return node.text
        raise self.error(f"can't handle {n.describe(node)} for arg of type "
                         f"{_go_type(typ)}")

    def validate(self, value: Any, typ: str | None) -> Any:
        if value is NO_VALUE:
            if typ is None or typ == "value":
                return NO_VALUE
            if typ == "any":
                return None
            raise self.error(f"invalid value; expected {_go_type(typ)}")
        if typ == "string" and not isinstance(value, str):
            got = "interface {}" if value is None else type_name(value)
            raise self.error(f"wrong type for value; expected string; got {got}")
        return value


_GO_TYPES = {"value": "reflect.Value", "any": "interface {}", "string": "string"}


def _map_order(key: Any) -> Any:
    return key.encode("utf-8", "surrogateescape") if isinstance(key, str) else key


__all__ = ["Budget", "MissingKey", "execute", "GoList"]


def _go_type(typ: str | None) -> str:
    return _GO_TYPES.get(typ or "", str(typ))
