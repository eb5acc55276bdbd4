"""Go's predefined template functions, with Go's argument rules and error texts.

A ``Func`` declares its parameter types the way Go's reflection sees them: ``value``
(``reflect.Value``: anything, no conversion), ``any`` (``interface{}``: a missing value becomes
nil), ``string``; ``variadic`` is the element type of a trailing ``...`` parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from .gofmt import print_action, sprint, sprintf, sprintln
from .values import (
    NO_VALUE,
    GoFunc,
    GoList,
    GoMap,
    GoNilPointer,
    GoStruct,
    go_equal,
    is_nil,
    kind,
    truth,
    type_name,
)


class FuncError(Exception):
    """A function returned an error; the evaluator reports it as ``error calling NAME: ...``."""


@dataclass(frozen=True)
class Func:
    fn: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None


def _indirect_interface(v: Any) -> Any:
    return NO_VALUE if v is None else v


# -- comparisons ----------------------------------------------------------------------------
_BASIC = {"bool", "int", "float", "string"}


def _basic(v: Any) -> str:
    k = kind(v)
    return k if k in _BASIC else "invalid"


def eq(arg1: Any, *args: Any) -> bool:
    arg1 = _indirect_interface(arg1)
    if not args:
        raise FuncError("missing argument for comparison")
    k1 = _basic(arg1)
    for arg in args:
        arg = _indirect_interface(arg)
        k2 = _basic(arg)
        if k1 != k2:
            if arg1 is not NO_VALUE and arg is not NO_VALUE:
                raise FuncError("incompatible types for comparison")
            hit = False
        elif k1 != "invalid":
            hit = arg1 == arg
        else:
            k1k, k2k = kind(arg1), kind(arg)
            if k1k != k2k and "invalid" not in (k1k, k2k):
                raise FuncError(
                    f"non-comparable types {print_action(arg1)}: {type_name(arg1)}, "
                    f"{type_name(arg)}: {print_action(arg)}")
            if is_nil(arg1) or is_nil(arg):
                hit = is_nil(arg) == is_nil(arg1)
            else:
                if kind(arg) in ("slice", "map", "func") or (
                        isinstance(arg, GoStruct) and not arg.go_pointer and not _comparable(arg)):
                    raise FuncError(
                        f"non-comparable type {print_action(arg)}: {type_name(arg)}")
                hit = go_equal(arg1, arg)
        if hit:
            return True
    return False


def _comparable(s: GoStruct) -> bool:
    for f in s.go_fields:
        v = s.go_field(f)
        if isinstance(v, list | dict | bytes | GoFunc):
            return False
        if isinstance(v, GoStruct) and not v.go_pointer and not _comparable(v):
            return False
    return True


def lt(arg1: Any, arg2: Any) -> bool:
    arg1, arg2 = _indirect_interface(arg1), _indirect_interface(arg2)
    k1, k2 = _basic(arg1), _basic(arg2)
    if k1 == "invalid" or k2 == "invalid":
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError("incompatible types for comparison")
    if k1 == "bool":
        raise FuncError("invalid type for comparison")
    if k1 == "string":
        return bool(arg1.encode("utf-8", "surrogateescape") < arg2.encode("utf-8",
                                                                         "surrogateescape"))
    return bool(arg1 < arg2)


def le(arg1: Any, arg2: Any) -> bool:
    return lt(arg1, arg2) or eq(arg1, arg2)


def ne(arg1: Any, arg2: Any) -> bool:
    return not eq(arg1, arg2)


def gt(arg1: Any, arg2: Any) -> bool:
    return not le(arg1, arg2)


def ge(arg1: Any, arg2: Any) -> bool:
    return not lt(arg1, arg2)


# -- containers -----------------------------------------------------------------------------
def _index_arg(index: Any, cap: int) -> int:
    if isinstance(index, int) and not isinstance(index, bool):
        if index < 0 or index > cap:
            raise FuncError(f"index out of range: {index}")
        return index
    if index is NO_VALUE:
        raise FuncError("cannot index slice/array with nil")
    raise FuncError(f"cannot index slice/array with type {type_name(index)}")


def _as_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def index(item: Any, *indexes: Any) -> Any:
    item = _indirect_interface(item)
    if item is NO_VALUE:
        raise FuncError("index of untyped nil")
    for ix in indexes:
        ix = _indirect_interface(ix)
        if item is None or isinstance(item, GoNilPointer):
            raise FuncError("index of nil pointer")
        if isinstance(item, str | bytes | list | tuple):
            seq = _as_bytes(item) if isinstance(item, str) else item
            x = _index_arg(ix, len(seq))
            if x == len(seq):
                raise FuncError(f"index out of range: {x}")
            item = seq[x]
        elif isinstance(item, dict):
            if ix is NO_VALUE:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(ix, str):
                raise FuncError(f"value has type {type_name(ix)}; should be string")
            missing = item.zero() if isinstance(item, GoMap) else None
            item = item.get(ix, missing)
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    item = _indirect_interface(item)
    if item is NO_VALUE:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        seq: Any = _as_bytes(item)
    elif isinstance(item, list | tuple | bytes):
        seq = item
    else:
        raise FuncError(f"can't slice item of type {type_name(item)}")
    idx = [0, len(seq), len(seq)]
    for i, ix in enumerate(indexes):
        idx[i] = _index_arg(_indirect_interface(ix), len(seq))
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
    part = seq[idx[0] : idx[1]]
    if isinstance(item, str):
        return part.decode("utf-8", "surrogateescape")
    if isinstance(item, GoList):
        return type(item)(part)
    return part


def length(item: Any) -> int:
    if item is None or isinstance(item, GoNilPointer):
        raise FuncError("len of nil pointer")
    if isinstance(item, str):
        return len(_as_bytes(item))
    if isinstance(item, list | tuple | dict | bytes):
        return len(item)
    raise FuncError(f"len of type {type_name(item)}")


def not_(arg: Any) -> bool:
    return not truth(arg)


def call(fn: Any, *args: Any) -> Any:
    fn = _indirect_interface(fn)
    if fn is NO_VALUE:
        raise FuncError("call of nil")
    if not isinstance(fn, GoFunc):
        raise FuncError(f"non-function of type {type_name(fn)}")
    if fn.nargs is not None and len(args) != fn.nargs:
        raise FuncError(f"wrong number of args: got {len(args)} want {fn.nargs}")
    try:
        return fn.fn(*[None if a is NO_VALUE else a for a in args])
    except FuncError:
        raise
    except Exception as e:  # the func's own error, as Go's call reports it
        raise FuncError(str(e)) from e


# -- strings --------------------------------------------------------------------------------
def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint([_printable(a) for a in args])


def _printable(v: Any) -> Any:
    if v is None or v is NO_VALUE:
        return "<no value>"
    if isinstance(v, GoStruct) and v.go_pointer:
        s = v.go_string()
        return s if s is not None else _Deref(v)
    return v


class _Deref(GoStruct):
    """A pointer's struct printed as the struct itself (printableValue dereferences)."""

    def __init__(self, target: GoStruct) -> None:
        self.target = target

    def go_string(self) -> str | None:
        return print_action(self.target)


def html(*args: Any) -> str:
    s = _eval_args(args)
    out = []
    for ch in s:
        out.append({'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;",
                    "\0": "\ufffd"}.get(ch, ch))
    return "".join(out)


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026",
       "=": "\\u003D"}


def js(*args: Any) -> str:
    s = _eval_args(args)
    out = []
    for ch in s:
        o = ord(ch)
        if ch in _JS:
            out.append(_JS[ch])
        elif o < 0x20:
            out.append(f"\\u00{o:02X}")
        elif o < 0x80:
            out.append(ch)
        elif 0xDC80 <= o <= 0xDCFF:
            out.append("\\uFFFD")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\u{o:04X}")
    return "".join(out)


def urlquery(*args: Any) -> str:
    s = _eval_args(args)
    return quote_plus(_as_bytes(s), safe="-_.~")


def print_(*args: Any) -> str:
    return sprint(list(args))


def println_(*args: Any) -> str:
    return sprintln(list(args))


def printf_(fmt: str, *args: Any) -> str:
    return sprintf(fmt, list(args))


BUILTINS: dict[str, Func] = {
    "and": Func(lambda *a: a[-1], ("value",), "value"),  # short-circuits in the evaluator
    "or": Func(lambda *a: a[-1], ("value",), "value"),
    "call": Func(call, ("value",), "value"),
    "html": Func(html, (), "any"),
    "index": Func(index, ("value",), "value"),
    "slice": Func(slice_, ("value",), "value"),
    "js": Func(js, (), "any"),
    "len": Func(length, ("value",)),
    "not": Func(not_, ("value",)),
    "print": Func(print_, (), "any"),
    "printf": Func(printf_, ("string",), "any"),
    "println": Func(println_, (), "any"),
    "urlquery": Func(urlquery, (), "any"),
    "eq": Func(eq, ("value",), "value"),
    "ge": Func(ge, ("value", "value")),
    "gt": Func(gt, ("value", "value")),
    "le": Func(le, ("value", "value")),
    "lt": Func(lt, ("value", "value")),
    "ne": Func(ne, ("value", "value")),
}
