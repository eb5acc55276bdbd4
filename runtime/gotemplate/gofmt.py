"""Go's fmt for template values: what ``{{ . }}``, ``print``, ``println`` and ``printf`` write.

Covers the verbs templates use (``%v %+v %s %q %d %t %f %F %e %E %g %G %x %X %o %O %b %c %U %T
%%``) with flags ``+ - # space 0``, width, precision and ``*``; errors are written the way Go
writes them (``%!d(string=hi)``, ``%!s(MISSING)``, ``%!(EXTRA int=1)``).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from .values import NO_VALUE, GoFunc, GoList, GoMap, GoNilPointer, GoStruct, kind, type_name


def print_action(v: Any) -> str:
    """``{{ pipeline }}``: text/template's printableValue, then fmt.Fprint."""
    if v is NO_VALUE:
        return "<no value>"
    if isinstance(v, GoStruct) and v.go_pointer:
        s = v.go_string()
        return s if s is not None else _struct(v, "v", _Flags(), 0)
    return _arg(v, "v", _Flags(), 0)


def sprint(args: list[Any]) -> str:
    out = []
    prev_string = False
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(_arg(a, "v", _Flags(), 0))
        prev_string = is_string
    return "".join(out)


def sprintln(args: list[Any]) -> str:
    return " ".join(_arg(a, "v", _Flags(), 0) for a in args) + "\n"


class _Flags:
    __slots__ = ("plus", "minus", "sharp", "space", "zero", "width", "prec", "plus_v", "sharp_v")

    def __init__(self) -> None:
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.plus_v = self.sharp_v = False
        self.width: int | None = None
        self.prec: int | None = None


def sprintf(fmt: str, args: list[Any]) -> str:
    out: list[str] = []
    argi = 0
    i, end = 0, len(fmt)
    reordered = False
    while i < end:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        f = _Flags()
        while i < end and fmt[i] in "+-# 0":
            c = fmt[i]
            if c == "+":
                f.plus = True
            elif c == "-":
                f.minus = True
            elif c == "#":
                f.sharp = True
            elif c == " ":
                f.space = True
            else:
                f.zero = True
            i += 1
        # width
        if i < end and fmt[i] == "*":
            i += 1
            if argi < len(args) and isinstance(args[argi], int) and not isinstance(
                    args[argi], bool):
                f.width = args[argi]
                if f.width < 0:
                    f.minus, f.width = True, -f.width
            else:
                out.append("%!(BADWIDTH)")
            argi += 1
        else:
            start = i
            while i < end and fmt[i].isdigit():
                i += 1
            if i > start:
                f.width = int(fmt[start:i])
        if i < end and fmt[i] == ".":
            i += 1
            if i < end and fmt[i] == "*":
                i += 1
                if argi < len(args) and isinstance(args[argi], int) and not isinstance(
                        args[argi], bool):
                    f.prec = args[argi] if args[argi] >= 0 else None
                else:
                    out.append("%!(BADPREC)")
                argi += 1
            else:
                start = i
                while i < end and fmt[i].isdigit():
                    i += 1
                f.prec = int(fmt[start:i]) if i > start else 0
        if i >= end:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if verb == "[":
            reordered = True
            out.append("%!(BADINDEX)")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        a = args[argi]
        argi += 1
        if f.minus:
            f.zero = False
        if verb == "v":
            f.plus_v, f.plus = f.plus, False
            f.sharp_v, f.sharp = f.sharp, False
            if f.sharp_v:
                out.append(_go_syntax(a))
                continue
        out.append(_arg(a, verb, f, 0))
    if not reordered and argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{type_name(a)}={_arg(a, 'v', _Flags(), 0)}"
            for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


# -- one argument ---------------------------------------------------------------------------
def _bad(v: Any, verb: str, f: _Flags | None = None) -> str:
    """Go's bad-verb text; the value is printed with %v under the same width and precision."""
    if v is None or v is NO_VALUE:
        return f"%!{verb}(<nil>)"
    g = _Flags()
    if f is not None:
        g.width, g.prec, g.minus, g.zero = f.width, f.prec, f.minus, f.zero
    return f"%!{verb}({type_name(v)}={_arg(v, 'v', g, 0)})"


def _arg(v: Any, verb: str, f: _Flags, depth: int) -> str:
    if verb == "T":
        return _pad(type_name(v), f)
    if v is None or v is NO_VALUE:
        if verb in "vT" or depth > 0:  # a nil inside a composite prints <nil> for every verb
            return _pad("<nil>", f)
        return _bad(v, verb, f)
    if verb in "vsxXq" and isinstance(v, GoStruct | GoList | GoMap):
        s = v.go_string()
        if s is not None:
            return _string(s, verb, f)
    if isinstance(v, bool):
        return _pad("true" if v else "false", f) if verb in "vt" else _bad(v, verb, f)
    if isinstance(v, int):
        return _integer(v, verb, f)
    if isinstance(v, float):
        return _float(v, verb, f)
    if isinstance(v, str):
        return _string(v, verb, f)
    if isinstance(v, bytes):
        if verb in "sxXq":
            return _string(v.decode("utf-8", "surrogateescape"), verb, f)
        return _seq(list(v), verb, f, depth)
    if isinstance(v, list | tuple):
        return _seq(list(v), verb, f, depth)
    if isinstance(v, dict):
        return _map(v, verb, f, depth)
    if isinstance(v, GoStruct):
        if v.go_pointer:
            if depth == 0:
                return "&" + _struct(v, verb, f, depth + 1)
            return _pad("0xc000010000", f)
        return _struct(v, verb, f, depth)
    if isinstance(v, GoNilPointer):
        return _pad("<nil>", f) if verb in "vs" else _bad(v, verb, f)
    if isinstance(v, GoFunc):
        return _pad("0x4a0000", f)
    return _bad(v, verb, f)


def _seq(items: list[Any], verb: str, f: _Flags, depth: int) -> str:
    return "[" + " ".join(_arg(x, verb, f, depth + 1) for x in items) + "]"


def _map(m: dict[Any, Any], verb: str, f: _Flags, depth: int) -> str:
    keys = sorted(m, key=_sort_key)
    return "map[" + " ".join(
        f"{_arg(k, verb, f, depth + 1)}:{_arg(m[k], verb, f, depth + 1)}" for k in keys) + "]"


def _sort_key(k: Any) -> Any:
    return (0, k) if isinstance(k, int | float) else (1, str(k))


def _struct(v: GoStruct, verb: str, f: _Flags, depth: int) -> str:
    parts = []
    for name in v.go_fields:
        value = _arg(v.go_field(name), verb, f, depth + 1)
        parts.append(f"{name}:{value}" if f.plus_v else value)
    return "{" + " ".join(parts) + "}"


def _pad(s: str, f: _Flags, zero_ok: bool = False) -> str:
    if f.width is None or len(s) >= f.width:
        return s
    fill = f.width - len(s)
    if f.minus:
        return s + " " * fill
    if f.zero and zero_ok:
        sign = s[0] if s[:1] in "+- " else ""
        return sign + "0" * fill + s[len(sign):]
    if f.zero:
        return "0" * fill + s
    return " " * fill + s


def _sign(neg: bool, f: _Flags) -> str:
    return "-" if neg else "+" if f.plus else " " if f.space else ""


def _integer(v: int, verb: str, f: _Flags) -> str:
    if verb == "c":
        return _pad(_rune(v), f)
    if verb == "q":
        return _pad(_quote_rune(v), f)
    if verb == "U":
        s = f"U+{v:04X}" if v >= 0 else f"U+{v & 0xFFFFFFFFFFFFFFFF:04X}"
        if f.sharp and 0 <= v <= 0x10FFFF and chr(v).isprintable():
            s += f" '{chr(v)}'"
        return _pad(s, f)
    bases = {"v": 10, "d": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}
    if verb not in bases:
        return _bad(v, verb, f)
    digits = {2: "b", 8: "o", 10: "d", 16: "x"}[bases[verb]]
    body = format(abs(v), digits)
    if verb == "X":
        body = body.upper()
    if f.prec is not None:
        if f.prec == 0 and v == 0:
            body = ""
        body = body.rjust(f.prec, "0")
    prefix = ""
    if verb == "O":
        prefix = "0o"
    elif f.sharp:
        prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "")
        if verb == "o" and body.startswith("0"):
            prefix = ""
    s = _sign(v < 0, f) + prefix + body
    if f.prec is not None:
        return _pad(s, _no_zero(f))
    return _pad(s, f, zero_ok=True)


def _no_zero(f: _Flags) -> _Flags:
    g = _Flags()
    g.minus, g.width = f.minus, f.width
    return g


def _rune(v: int) -> str:
    if 0 <= v <= 0x10FFFF and not 0xD800 <= v < 0xE000:
        return chr(v)
    return "\ufffd"


def _quote_rune(v: int) -> str:
    r = _rune(v)
    if r == "'":
        return "'\\''"
    if r == '"':
        return "'\"'"
    return "'" + _escape(r, "'") + "'"


def _escape(s: str, quote: str, ascii_only: bool = False) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # an invalid byte kept by surrogateescape
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch == quote or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable() and (not ascii_only or o < 128):
            out.append(ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t", "\v": "\\v"}[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return "".join(out)


def go_quote(s: str, ascii_only: bool = False) -> str:
    """strconv.Quote (``ascii_only``: QuoteToASCII)."""
    return '"' + _escape(s, '"', ascii_only) + '"'


def _string(s: str, verb: str, f: _Flags) -> str:
    if f.prec is not None and verb in "vsq":
        s = s[: f.prec]
    if verb in "vs":
        return _pad(s, f)
    if verb == "q":
        if f.sharp and "`" not in s and all(c == "\t" or c.isprintable() for c in s):
            return _pad("`" + s + "`", f)
        return _pad(go_quote(s, ascii_only=f.plus), f)
    if verb in "xX":
        data = s.encode("utf-8", "surrogateescape")
        if f.prec is not None:
            data = data[: f.prec]
        parts = [format(b, "02x") for b in data]
        if f.space:
            parts = [("0x" if f.sharp else "") + p for p in parts]
            body = " ".join(parts)
        else:
            body = ("0x" if f.sharp and parts else "") + "".join(parts)
        return _pad(body.upper() if verb == "X" else body, f)
    return _bad(s, verb, f)


# -- floats ---------------------------------------------------------------------------------
def _shortest(x: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(x) and the decimal point position."""
    if x == 0:
        return "0", 1
    d = Decimal(repr(abs(x))).normalize()
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    ds = "".join(map(str, digits))
    return ds, len(ds) + exp


def _rounded(x: float, prec: int) -> tuple[str, int]:
    """abs(x) rounded to ``prec`` significant digits (trailing zeros removed)."""
    if x == 0:
        return "0", 1
    mant, _, e = f"{abs(x):.{max(prec, 1) - 1}e}".partition("e")
    ds = mant.replace(".", "").rstrip("0") or "0"
    return ds, int(e) + 1


def _fmt_e(ds: str, dp: int, decimals: int, e: str) -> str:
    body = ds[0] + ("." + ds[1:].ljust(decimals, "0")[:decimals] if decimals > 0 else "")
    exp = dp - 1 if ds != "0" else 0
    return f"{body}{e}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fmt_f(ds: str, dp: int, decimals: int) -> str:
    if dp <= 0:
        whole, frac = "0", "0" * (-dp) + ds
    elif dp >= len(ds):
        whole, frac = ds + "0" * (dp - len(ds)), ""
    else:
        whole, frac = ds[:dp], ds[dp:]
    frac = frac.ljust(decimals, "0")[:decimals]
    return whole + ("." + frac if decimals > 0 else "")


def format_g(x: float, prec: int | None = None, e: str = "e") -> str:
    """strconv.FormatFloat(x, 'g', prec, 64) for a finite x, without the sign."""
    if prec is None:
        ds, dp = _shortest(x)
        eprec = 6
        prec = len(ds)
    else:
        prec = max(prec, 1)
        ds, dp = _rounded(x, prec)
        eprec = prec
        if eprec > len(ds) and len(ds) >= dp:
            eprec = len(ds)
    exp = dp - 1
    if exp < -4 or exp >= eprec:
        if prec > len(ds):
            prec = len(ds)
        return _fmt_e(ds, dp, prec - 1, e)
    if prec > dp:
        prec = len(ds)
    return _fmt_f(ds, dp, max(prec - dp, 0))


def _float(x: float, verb: str, f: _Flags) -> str:
    if verb not in "vbeEfFgGxX":
        return _bad(x, verb, f)
    neg = math.copysign(1.0, x) < 0
    if math.isnan(x):
        s = ("+" if f.plus else " " if f.space else "") + "NaN"
        return _pad(s, _no_zero(f))
    if math.isinf(x):
        s = ("-" if x < 0 else "+" if f.plus or verb == "v" else " " if f.space else "") + "Inf"
        return _pad(s, _no_zero(f))
    ax = abs(x)
    if verb in "vgG":
        body = format_g(ax, f.prec, "E" if verb == "G" else "e")
        if f.sharp and "." not in body:
            mant, sep, ex = body.partition("e" if verb != "G" else "E")
            digits = len(mant.replace(".", ""))
            want = f.prec if f.prec is not None else 6
            mant += "." + "0" * max(want - digits, 0) if "." not in mant else ""
            body = mant + (sep + ex if sep else "")
    elif verb in "eE":
        prec = 6 if f.prec is None else f.prec
        body = f"{ax:.{prec}{verb}}"
    elif verb in "fF":
        prec = 6 if f.prec is None else f.prec
        body = f"{ax:.{prec}f}"
    elif verb in "xX":
        body = _hex_float(ax, f.prec)
        if verb == "X":
            body = body.upper()
    else:  # %b
        frac, bexp = math.frexp(ax)
        body = f"{int(frac * 2**53)}p{bexp - 53:+d}"
    return _pad(_sign(neg, f) + body, f, zero_ok=True)


def _hex_float(x: float, prec: int | None) -> str:
    """strconv's 'x' format of a finite non-negative x: 0x1.8p+01."""
    if x == 0:
        mant, exp = 0, 0
    else:
        m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
        mant, exp = int(m * 2**53), e - 1  # 53 bits: 1.fffff... * 2**exp
    frac = mant & ((1 << 52) - 1)
    lead = mant >> 52
    digits = f"{frac:013x}"
    if prec is not None and prec < 13:
        shift = (13 - prec) * 4
        rem = frac & ((1 << shift) - 1)
        frac >>= shift
        half = 1 << (shift - 1)
        if rem > half or (rem == half and frac & 1):
            frac += 1
            if frac >> (prec * 4):
                frac = 0
                lead += 1
        if lead == 2:
            lead, exp = 1, exp + 1
        digits = f"{frac:0{prec}x}" if prec else ""
    elif prec is None:
        digits = digits.rstrip("0")
    else:
        digits = digits.ljust(prec, "0")
    body = f"0x{lead}" + ("." + digits if digits else "")
    return f"{body}p{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _go_syntax(v: Any) -> str:
    """%#v for the values JSON data holds (Go-syntax representation)."""
    if v is None or v is NO_VALUE:
        return "interface {}(nil)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = format_g(abs(v)) if math.isfinite(v) else _float(v, "v", _Flags())
        if math.isfinite(v):
            if "e" not in s and "." not in s:
                s += ".0" if len(s) < 21 else ""
            s = ("-" if v < 0 else "") + s
        return s
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, list | tuple):
        return type_name(v) + "{" + ", ".join(_go_syntax(x) for x in v) + "}"
    if isinstance(v, dict):
        keys = sorted(v, key=_sort_key)
        return type_name(v) + "{" + ", ".join(f"{_go_syntax(k)}:{_go_syntax(v[k])}"
                                              for k in keys) + "}"
    return _arg(v, "v", _Flags(), 0)


def format_float_v(x: float) -> str:
    return _float(x, "v", _Flags())


__all__ = ["format_float_v", "format_g", "go_quote", "print_action", "sprint", "sprintf",
           "sprintln", "kind"]
