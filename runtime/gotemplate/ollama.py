"""Ollama's use of Go templates: its functions, its values, and its three ways to execute.

``OllamaTemplate(text)`` parses like Ollama's ``template.Parse`` (``missingkey=zero``, functions
``json currentDate yesterdayDate toTypeScriptType``; a template that mentions neither
``.Messages`` nor ``.Response`` gets ``{{ .Response }}`` appended). ``render`` then picks the
way Ollama's ``Template.Execute`` does:

1. ``prompt`` and ``suffix`` both given (fill-in-the-middle): executed once on ``.Prompt
   .Suffix .Response(empty) .Think .ThinkLevel .IsThinkSet``;
2. the template uses ``.Messages``: executed once on ``.System`` (every system message, joined
   by a blank line) ``.Messages`` (consecutive messages of one role merged, tool messages kept
   apart) ``.Tools .Response(empty) .Think .ThinkLevel .IsThinkSet``;
3. otherwise (legacy ``.System/.Prompt/.Response`` templates): executed once per
   system/user/assistant turn and concatenated; the last turn is rendered from a copy of the
   tree cut right after its first ``.Response`` (with Go's builtins only and no ``missingkey``
   option, as Ollama re-parses it).

Which variables a template uses is Ollama's ``Vars``: every field and variable name in actions,
conditions and ``{{template}}`` arguments of all its templates, lower-cased.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import TemplateError
from . import nodes as n
from .builtins import BUILTINS, Func
from .exec import Budget
from .gojson import Unsupported, marshal
from .ollama_data import (
    TemplateMessages,
    ToolProperty,
    _get,
    template_message,
    template_tools,
)
from .template import Template


def _json(v: Any) -> str:
    try:
        return marshal(v)
    except Unsupported:
        return ""  # Ollama ignores json.Marshal's error and returns the empty string


def _current_date(*_format: str) -> str:
    return datetime.date.today().isoformat()


def _yesterday_date(*_format: str) -> str:
    return (datetime.date.today() - datetime.timedelta(days=1)).isoformat()


def _to_typescript_type(v: Any) -> str:
    return v.to_typescript_type() if isinstance(v, ToolProperty) else "any"


OLLAMA_FUNCS: dict[str, Func] = {
    "json": Func(_json, ("any",)),
    "currentDate": Func(_current_date, (), "string"),
    "yesterdayDate": Func(_yesterday_date, (), "string"),
    "toTypeScriptType": Func(_to_typescript_type, ("any",)),
}


def think_values(think: bool | str | None) -> dict[str, Any]:
    """``.Think .ThinkLevel .IsThinkSet`` for a request's ``think`` (bool, level or absent)."""
    if think is None:
        return {"Think": False, "ThinkLevel": "", "IsThinkSet": False}
    if isinstance(think, bool):
        return {"Think": think, "ThinkLevel": "medium" if think else "", "IsThinkSet": True}
    return {"Think": think in ("high", "medium", "low"), "ThinkLevel": think, "IsThinkSet": True}


def collate(messages: Iterable[Any]) -> tuple[str, list[dict[str, Any]]]:
    """(all system contents joined by a blank line, messages with consecutive same-role ones
    merged by a blank line; tool messages are never merged)."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for raw in messages:
        role = str(_get(raw, "role", ""))
        content = str(_get(raw, "content", ""))
        if role == "system":
            system.append(content)
        if out and out[-1]["role"] == role and role != "tool":
            out[-1]["content"] += "\n\n" + content
        else:
            out.append({"raw": raw, "role": role, "content": content})
    return "\n\n".join(system), out


def identifiers(node: n.Node) -> list[str]:
    """Field and variable names in a node, the way Ollama's ``Identifiers`` walks it."""
    if isinstance(node, n.ListNode):
        return [i for c in node.nodes for i in identifiers(c)]
    if isinstance(node, n.TemplateNode):
        if node.pipe is None:
            raise TemplateError(
                f'template: {{{{template "{node.name}"}}}} without a value: Ollama refuses it '
                f"(undefined template specified)")
        return identifiers(node.pipe)
    if isinstance(node, n.ActionNode):
        return identifiers(node.pipe)
    if isinstance(node, n.BranchNode):
        names = identifiers(node.pipe)
        for lst in (node.list, node.else_list):
            if lst is not None:
                names += identifiers(lst)
        return names
    if isinstance(node, n.PipeNode):
        return [i for c in node.cmds for a in c.args for i in identifiers(a)]
    if isinstance(node, n.FieldNode | n.VariableNode):
        return list(node.ident)
    return []


class OllamaTemplate:
    """A Go template as Ollama parses and executes it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.template = Template(text, OLLAMA_FUNCS, missingkey="zero")
        self.vars = self._vars()
        if "messages" not in self.vars and "response" not in self.vars:
            response = n.FieldNode(len(text), ("Response",))
            pipe = n.PipeNode(len(text), cmds=[n.CommandNode(len(text), [response])])
            self.template.root.nodes.append(n.ActionNode(len(text), pipe))
            self.vars = sorted({*self.vars, "response"})

    def _vars(self) -> list[str]:
        names: set[str] = set()
        for body in self.template.defs.values():
            for node in body.nodes:
                names.update(i.lower() for i in identifiers(node))
        return sorted(names)

    @property
    def uses_messages(self) -> bool:
        return "messages" in self.vars

    def render(self, *, messages: Iterable[Any] = (), tools: Iterable[Any] | None = None,
               think: bool | str | None = None, prompt: str = "", suffix: str = "",
               budget: Budget | None = None) -> str:
        thinking = think_values(think)
        if prompt and suffix:
            return self.template.execute(
                {"Prompt": prompt, "Suffix": suffix, "Response": "", **thinking}, budget=budget)
        system, collated = collate(messages)
        if self.uses_messages:
            msgs = TemplateMessages(nil=not collated)
            for m in collated:
                tm = template_message(m["raw"])
                tm.Content = m["content"]
                msgs.append(tm)
            data = {"System": system, "Messages": msgs, "Tools": template_tools(tools),
                    "Response": "", **thinking}
            return self.template.execute(data, budget=budget)
        return self._legacy(collated, thinking, budget)

    def _legacy(self, collated: list[dict[str, Any]], thinking: Mapping[str, Any],
                budget: Budget | None) -> str:
        out: list[str] = []
        turn = {"System": "", "Prompt": "", "Response": ""}

        def flush() -> None:
            out.append(self.template.execute({**turn, **thinking}, budget=budget))
            turn.update(System="", Prompt="", Response="")

        for m in collated:
            role, content = m["role"], m["content"]
            if role == "system":
                if turn["Prompt"] or turn["Response"]:
                    flush()
                turn["System"] = content
            elif role == "user":
                if turn["Response"]:
                    flush()
                turn["Prompt"] = content
            elif role == "assistant":
                turn["Response"] = content
        cut = _Cut().node(self.template.root)
        assert isinstance(cut, n.ListNode)
        out.append(self.template.execute_tree(cut, {**turn, **thinking}, funcs=BUILTINS,
                                              defs={"": cut}, missingkey="default",
                                              budget=budget))
        return "".join(out)


class _Cut:
    """A copy of a tree without anything after its first ``.Response`` field (Ollama's
    ``deleteNode``): lists, branch bodies, actions and pipelines are walked, conditions are
    not; a later ``.Response`` field is kept too."""

    def __init__(self) -> None:
        self.cut = False

    def node(self, node: n.Node) -> n.Node | None:
        if isinstance(node, n.FieldNode) and "Response" in node.ident:
            self.cut = True
            return node
        if self.cut:
            return None
        if isinstance(node, n.ListNode):
            kept = [c for c in (self.node(x) for x in node.nodes) if c is not None]
            return n.ListNode(node.pos, kept)
        if isinstance(node, n.BranchNode):
            body = self.node(node.list)
            else_list = None
            if node.else_list is not None:
                else_list = self.node(node.else_list)
                if else_list is None:
                    raise TemplateError(
                        "template: Ollama cannot render the last turn of this template: its "
                        "{{else}} follows the .Response it cuts at (Ollama's renderer panics)")
            assert isinstance(body, n.ListNode)
            return type(node)(node.pos, node.pipe, body, else_list)  # type: ignore[arg-type]
        if isinstance(node, n.ActionNode):
            pipe = self.node(node.pipe)
            return n.ActionNode(node.pos, pipe) if isinstance(pipe, n.PipeNode) else None
        if isinstance(node, n.PipeNode):
            cmds = []
            for cmd in node.cmds:
                args = [a for a in (self.node(x) for x in cmd.args) if a is not None]
                if not args:
                    return None
                cmds.append(n.CommandNode(cmd.pos, args))
            return n.PipeNode(node.pos, node.decl, node.is_assign, cmds)
        return node


def render_ollama(template_text: str, *, messages: Iterable[Any] = (),
                  tools: Iterable[Any] | None = None, think: bool | str | None = None,
                  prompt: str = "", suffix: str = "", budget: Budget | None = None) -> str:
    """Render an Ollama Go template the way Ollama does (see the module docstring)."""
    return OllamaTemplate(template_text).render(messages=messages, tools=tools, think=think,
                                                prompt=prompt, suffix=suffix, budget=budget)
