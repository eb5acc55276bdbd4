"""Go values as the template engine sees them, in Python.

==========================  =====================================================
Go                          Python
==========================  =====================================================
invalid ``reflect.Value``   ``NO_VALUE`` (a missing key after a pipeline: prints
                            ``<no value>``)
nil ``interface{}``         ``None``
string / int / float64      ``str`` / ``int`` / ``float``  (``bool`` is bool)
``[]interface{}``           ``list`` (or a ``GoList`` subclass for a typed slice)
``map[string]interface{}``  ``dict`` (or a ``GoMap`` subclass for a typed map)
``[]byte``                  ``bytes``
struct / ``*struct``        a ``GoStruct`` subclass (``go_pointer`` for ``*T``)
func                        a ``GoFunc``
==========================  =====================================================

``GoStruct``, ``GoList`` and ``GoMap`` subclasses may implement ``go_string`` (Go's
``fmt.Stringer``) and ``go_json`` (``json.Marshaler``); structs expose methods through
``go_methods``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar


class _NoValue:
    _instance: ClassVar[_NoValue | None] = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Any = _NoValue()


class GoStruct:
    """A Go struct value. ``go_fields`` lists the exported fields in declaration order."""

    go_type: ClassVar[str] = "struct"
    go_fields: ClassVar[tuple[str, ...]] = ()
    go_pointer: ClassVar[bool] = False  # handled through *T (Ollama's messages are)
    # template name -> (Python method name, parameter types, variadic type); see builtins.Func
    go_methods: ClassVar[dict[str, tuple[str, tuple[str, ...], str | None]]] = {}

    def go_field(self, name: str) -> Any:
        return getattr(self, name)

    def go_string(self) -> str | None:
        """``String()`` when the type is a ``fmt.Stringer``; ``None`` otherwise."""
        return None

    def go_json(self) -> str | None:
        """A custom ``MarshalJSON``; ``None`` to marshal the fields."""
        return None

    def go_json_fields(self) -> list[tuple[str, Any, bool]]:
        """(JSON name, value, omitempty) for each field, in order."""
        return [(f, self.go_field(f), False) for f in self.go_fields]

    def __eq__(self, other: object) -> bool:
        if self.go_pointer:
            return self is other
        return type(self) is type(other) and all(
            go_equal(self.go_field(f), other.go_field(f))  # type: ignore[attr-defined]
            for f in self.go_fields)

    __hash__ = object.__hash__


class GoNilPointer:
    """A typed nil pointer (``(*T)(nil)``)."""

    def __init__(self, go_type: str) -> None:
        self.go_type = go_type


class GoList(list[Any]):
    """A typed slice; ``nil`` marks Go's nil slice (JSON ``null``, prints ``[]``)."""

    go_type: ClassVar[str] = "[]interface {}"

    def __init__(self, items: Any = (), *, nil: bool = False) -> None:
        super().__init__(items)
        self.nil = nil and not self

    def go_string(self) -> str | None:
        return None

    def go_json(self) -> str | None:
        return None


class GoMap(dict[str, Any]):
    """A typed map; ``zero()`` is the element a missing key yields; ``ordered`` keeps insertion
    order in JSON (Ollama's ordered maps); ``nil`` marks a nil map."""

    go_type: ClassVar[str] = "map[string]interface {}"
    ordered: ClassVar[bool] = False

    def __init__(self, items: Any = (), *, nil: bool = False) -> None:
        super().__init__(items)
        self.nil = nil and not self

    def zero(self) -> Any:
        return None

    def go_string(self) -> str | None:
        return None

    def go_json(self) -> str | None:
        return None


class GoFunc:
    """A func value stored in data, callable with ``call``."""

    def __init__(self, fn: Callable[..., Any], go_type: str = "func(...interface {}) interface {}",
                 nargs: int | None = None) -> None:
        self.fn = fn
        self.go_type = go_type
        self.nargs = nargs


def kind(v: Any) -> str:
    if v is NO_VALUE:
        return "invalid"
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list | tuple | bytes):
        return "slice"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, GoStruct):
        return "ptr" if v.go_pointer else "struct"
    if isinstance(v, GoNilPointer):
        return "ptr"
    if isinstance(v, GoFunc):
        return "func"
    raise TypeError(f"not a Go template value: {type(v).__name__}")


def type_name(v: Any) -> str:
    k = kind(v)
    if k == "nil" or k == "invalid":
        return "<nil>"
    if k == "int":
        return "int"
    if k == "float":
        return "float64"
    if k in ("bool", "string"):
        return k
    if isinstance(v, bytes):
        return "[]uint8"
    if isinstance(v, GoList | GoMap):
        return v.go_type
    if isinstance(v, list | tuple):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, GoStruct):
        return ("*" if v.go_pointer else "") + v.go_type
    if isinstance(v, GoNilPointer | GoFunc):
        return v.go_type
    return "?"


def is_nil(v: Any) -> bool:
    """Go's nil for kinds that can be nil (invalid counts as nil)."""
    if v is NO_VALUE or v is None or isinstance(v, GoNilPointer):
        return True
    if isinstance(v, GoList | GoMap):
        return v.nil
    return False


def truth(v: Any) -> bool:
    """Go's template truth: false, 0, nil, and empty strings/slices/maps are false."""
    if v is NO_VALUE or v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, str | list | tuple | dict | bytes):
        return len(v) > 0
    return not isinstance(v, GoNilPointer)  # structs and pointers to them, funcs: true


def go_equal(a: Any, b: Any) -> bool:
    if isinstance(a, GoStruct) or isinstance(b, GoStruct):
        return a == b
    return type(a) is type(b) and a == b
