"""Go's ``encoding/json.Marshal`` for template values (what Ollama's ``json`` function returns).

Byte for byte as Go writes it: map keys sorted (ordered maps keep their order), ``<``, ``>``,
``&``, U+2028 and U+2029 escaped as ``\\u003c``..., floats in Go's shortest form (exponent form
below 1e-6 and from 1e21 on), ``[]byte`` as base64, struct fields by their JSON names with
``omitempty``, custom ``MarshalJSON`` through ``go_json``.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from .gofmt import _fmt_e, _fmt_f, _shortest
from .values import NO_VALUE, GoFunc, GoList, GoMap, GoNilPointer, GoStruct


class Unsupported(ValueError):
    """A value json.Marshal refuses (NaN, ±Inf, funcs)."""


_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
        "\t": "\\t", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
        "\u2029": "\\u2029"}


def quote(s: str) -> str:
    out = ['"']
    for ch in s:
        e = _ESC.get(ch)
        if e is not None:
            out.append(e)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        elif "\udc80" <= ch <= "\udcff":  # an invalid UTF-8 byte
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def number(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        raise Unsupported(f"json: unsupported value: {x}")
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    ds, dp = _shortest(x)
    sign = "-" if x < 0 else ""
    ax = abs(x)
    if ax < 1e-6 or ax >= 1e21:
        s = _fmt_e(ds, dp, len(ds) - 1, "e")
        mant, _, exp = s.partition("e")
        if exp[0] == "-" and exp[1] == "0":
            exp = "-" + exp[2:]
        return sign + mant + "e" + exp
    return sign + _fmt_f(ds, dp, max(len(ds) - dp, 0))


def marshal(v: Any) -> str:
    if v is None or v is NO_VALUE or isinstance(v, GoNilPointer):
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return number(v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, bytes):
        return '"' + base64.b64encode(v).decode("ascii") + '"'
    if isinstance(v, GoStruct):
        custom = v.go_json()
        if custom is not None:
            return custom
        parts = [f"{quote(name)}:{marshal(value)}" for name, value, omit in v.go_json_fields()
                 if not (omit and is_empty(value))]
        return "{" + ",".join(parts) + "}"
    if isinstance(v, GoList | GoMap):
        custom = v.go_json()
        if custom is not None:
            return custom
    if isinstance(v, GoList) and v.nil:
        return "null"
    if isinstance(v, list | tuple):
        return "[" + ",".join(marshal(x) for x in v) + "]"
    if isinstance(v, GoMap) and v.nil:
        return "null"
    if isinstance(v, dict):
        items = [(str(k), x) for k, x in v.items()]
        if not (isinstance(v, GoMap) and v.ordered):
            items.sort(key=lambda kv: kv[0].encode("utf-8", "surrogateescape"))
        return "{" + ",".join(f"{quote(k)}:{marshal(x)}" for k, x in items) + "}"
    if isinstance(v, GoFunc):
        raise Unsupported(f"json: unsupported type: {v.go_type}")
    raise Unsupported(f"json: unsupported type: {type(v).__name__}")


def is_empty(v: Any) -> bool:
    """encoding/json's isEmptyValue, for ``omitempty``."""
    if v is None or v is NO_VALUE or isinstance(v, GoNilPointer):
        return True
    if isinstance(v, bool):
        return not v
    if isinstance(v, int | float):
        return v == 0
    if isinstance(v, str | bytes | list | tuple | dict):
        return len(v) == 0
    return False
