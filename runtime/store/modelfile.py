'''Modelfiles: parse them, check their parameters, print them back.

    # comment
    FROM smollm2:135m                 a model name, a GGUF path, or a blob
    PARAMETER temperature 0.2         repeated ``stop`` lines accumulate
    TEMPLATE """{{ messages }}"""     values: a word, "quoted", or """multi-line"""
    SYSTEM You are terse.
    ADAPTER ./lora.gguf
    LICENSE """MIT"""                 repeatable
    MESSAGE user Hello                role: system, user or assistant

Commands are case-insensitive. A value is the rest of its line; one that opens with ``"`` or
``"""`` runs until the first line end where it closes, exactly as Ollama's parser reads it.
Errors are :class:`ModelfileError` with the line number. :func:`format_modelfile` prints a
Modelfile so that :func:`parse_modelfile` reads back the same thing (``show --modelfile``).
'''

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from typing import Any

from msgspec import UnsetType

from ..errors import ModelfileError
from ..options import Options
from .message import Message

COMMANDS = ("from", "parameter", "template", "system", "adapter", "license", "message",
            "renderer", "parser", "requires")
ROLES = ("system", "user", "assistant")
#: accepted and ignored, as Ollama does
DEPRECATED_PARAMETERS = ("penalize_newline", "low_vram", "f16_kv", "logits_all", "vocab_only",
                         "use_mlock", "mirostat", "mirostat_tau", "mirostat_eta")


def _parameter_types() -> dict[str, Any]:
    hints = typing.get_type_hints(Options)
    return {name: next(a for a in typing.get_args(hints[name]) if a is not UnsetType)
            for name in Options.__struct_fields__}


PARAMETER_TYPES = _parameter_types()
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@dataclass(frozen=True, slots=True)
class Command:
    """One Modelfile instruction; ``key`` is the PARAMETER name or the MESSAGE role."""

    name: str
    value: str
    key: str = ""
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Modelfile:
    """A parsed Modelfile, parameters typed (``stop`` is a list)."""

    from_: str
    parameters: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    system: str | None = None
    adapters: list[str] = field(default_factory=list)
    license: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    renderer: str = ""
    parser: str = ""
    requires: str = ""

    def commands(self) -> list[Command]:
        out = [Command("from", self.from_)]
        out += [Command("adapter", a) for a in self.adapters]
        if self.template is not None:
            out.append(Command("template", self.template))
        if self.system is not None:
            out.append(Command("system", self.system))
        for k, v in self.parameters.items():
            for item in (v if isinstance(v, list) else [v]):
                out.append(Command("parameter", format_value(item), k))
        out += [Command("message", m.content, m.role) for m in self.messages]
        out += [Command("license", text) for text in self.license]
        out += [Command(n, v) for n, v in (("renderer", self.renderer), ("parser", self.parser),
                                            ("requires", self.requires)) if v]
        return out

    def __str__(self) -> str:
        return format_commands(self.commands())


# ---- parsing ----------------------------------------------------------------------------------

_WORD = re.compile(r"([A-Za-z]+)(?:[ \t]+|$)")
_PARAM = re.compile(r"([A-Za-z0-9_]+)[ \t]+")
_ROLE = re.compile(r"([A-Za-z]+)[ \t]+")


def parse_commands(text: str) -> list[Command]:
    """The instructions of a Modelfile, values unquoted; ModelfileError naming the line."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[Command] = []
    i = 0
    while i < len(lines):
        lineno = i + 1
        s = lines[i].lstrip(" \t")
        i += 1
        if not s or s.startswith("#"):
            continue
        m = _WORD.match(s)
        name = m.group(1).lower() if m else ""
        if name not in COMMANDS:
            raise ModelfileError("command must be one of " +
                                 ", ".join(c.upper() for c in COMMANDS), lineno)
        rest, key = s[m.end():], ""  # type: ignore[union-attr]
        if name in ("parameter", "message"):
            km = (_PARAM if name == "parameter" else _ROLE).match(rest)
            if km is None:
                what = "a name" if name == "parameter" else "a role"
                raise ModelfileError(f"{name.upper()} needs {what} and a value", lineno)
            key, rest = km.group(1), rest[km.end():]
            if name == "message" and key not in ROLES:
                raise ModelfileError(
                    'message role must be one of "system", "user", or "assistant"', lineno)
        value = _unquote(rest.strip(" \t"))
        while value is None:
            if i >= len(lines):
                raise ModelfileError("unterminated quoted value", lineno)
            rest += "\n" + lines[i]
            i += 1
            value = _unquote(rest.strip(" \t"))
        out.append(Command(name, value, key, lineno))
    return out


def parse_modelfile(text: str) -> Modelfile:
    """Parse and check a Modelfile (a FROM is required; parameters must be known and typed)."""
    commands = parse_commands(text)
    froms = [c for c in commands if c.name == "from"]
    if not froms:
        raise ModelfileError("no FROM line")
    mf = Modelfile(from_=froms[-1].value)
    for c in commands:
        if c.name == "parameter":
            if c.key in DEPRECATED_PARAMETERS:
                continue
            value = convert_parameter(c.key, c.value, line=c.line)
            if isinstance(value, list):
                mf.parameters.setdefault(c.key, []).extend(value)
            else:
                mf.parameters[c.key] = value
        elif c.name == "message":
            mf.messages.append(Message(c.key, c.value))
        elif c.name == "adapter":
            mf.adapters.append(c.value)
        elif c.name == "license":
            mf.license.append(c.value)
        elif c.name in ("template", "system", "renderer", "parser", "requires"):
            setattr(mf, c.name, c.value)
    return mf


def _unquote(s: str) -> str | None:
    """The value a complete buffer stands for; None while a quote is still open."""
    if s.startswith('"""'):
        return s[3:-3] if len(s) >= 6 and s.endswith('"""') else None
    if s.startswith('"'):
        return s[1:-1] if len(s) >= 2 and s.endswith('"') else None
    return s


# ---- parameters -------------------------------------------------------------------------------

def convert_parameter(name: str, value: Any, *, line: int = 0) -> Any:
    """A parameter value of the type Ollama's options give it (``stop`` -> list[str])."""
    if name not in PARAMETER_TYPES:
        raise ModelfileError(f"unknown parameter {name!r}", line)
    kind = PARAMETER_TYPES[name]
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value in _TRUE + _FALSE:
                return value in _TRUE
        elif kind is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str):
                return int(value, 10)
            if isinstance(value, float) and value.is_integer():
                return int(value)
        elif kind is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str):
                return float(value)
        elif kind is str:  # llmrt's own: backend
            if isinstance(value, str):
                return value
        else:  # list[str]: stop
            items = value if isinstance(value, list) else [value]
            if all(isinstance(v, str) for v in items):
                return list(items)
    except ValueError:
        pass
    type_name = kind.__name__ if kind in (bool, int, float, str) else "string list"
    raise ModelfileError(f"invalid {type_name} value {value!r} for parameter {name!r}", line)


def check_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Typed copy of an API ``parameters`` object; deprecated names dropped."""
    return {k: convert_parameter(k, v) for k, v in params.items()
            if k not in DEPRECATED_PARAMETERS}


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


# ---- printing ---------------------------------------------------------------------------------

def quote(value: str) -> str:
    """``value`` written so that the parser reads it back unchanged (ModelfileError if no
    quoting can: a line of it ends in ``\"\"\"`` before its end)."""
    if value and "\n" not in value and value == value.strip(" \t") and value[0] != '"':
        return value
    for q in (('"""', '"') if "\n" in value else ('"', '"""')):
        if (q == '"""' or '"' not in value) and _reads_back(q + value + q, value):
            return q + value + q
    raise ModelfileError(f"a Modelfile cannot hold {value!r}: a line of it ends with a quote")


def _reads_back(text: str, value: str) -> bool:
    lines = text.split("\n")
    buf = lines[0]
    for more in lines[1:]:
        if _unquote(buf.strip(" \t")) is not None:
            return False
        buf += "\n" + more
    return _unquote(buf.strip(" \t")) == value


def format_commands(commands: list[Command]) -> str:
    out = []
    for c in commands:
        if c.name == "from":
            out.append(f"FROM {quote(c.value)}")
        elif c.name in ("parameter", "message"):
            out.append(f"{c.name.upper()} {c.key} {quote(c.value)}")
        else:
            out.append(f"{c.name.upper()} {quote(c.value)}")
    return "\n".join(out) + "\n"


def format_modelfile(modelfile: Modelfile, *, header: str = "") -> str:
    """The Modelfile text, after ``header`` lines written as comments."""
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + ("\n" if comments else "") + str(modelfile)
