"""The values Ollama's templates see, built from request-shaped messages and tools.

Field names, Go types, JSON names and printing follow Ollama's template package and api types:
``.Messages`` are ``*templateMessage`` (``Role Content Thinking Images ToolCalls ToolName
ToolCallID``), a tool call is ``ID`` + ``Function{Index Name Arguments}``, ``.Tools`` is a
``templateTools`` (prints as its JSON), a tool is ``Type Items Function{Name Description
Parameters{Type Defs Items Required Properties}}``, a property is an ``api.ToolProperty``
(``AnyOf Type Items Description Enum Properties Required``, method ``ToTypeScriptType``).
JSON numbers inside free-form values (arguments, enum, items) are float64, as Go decodes them.

Input messages and tools may be mappings in Ollama's wire shape (``role``, ``content``,
``tool_calls: [{function: {name, arguments}}]``, ...) or objects with those attributes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ..errors import TemplateError
from .gojson import marshal
from .values import GoList, GoMap, GoNilPointer, GoStruct


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        value = obj.get(key, default)
    else:
        value = getattr(obj, key.lstrip("$"), default)
    return default if value is None else value


def free_form(v: Any) -> Any:
    """A JSON value decoded into Go's ``interface{}``: numbers become float64."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, Mapping):
        return {str(k): free_form(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [free_form(x) for x in v]
    raise TemplateError(f"template data: unsupported value of type {type(v).__name__}")


def _strings(v: Any, go_type: str = "[]string") -> GoList:
    lst = _StringList(str(x) for x in v) if v else _StringList(nil=True)
    return lst


class _StringList(GoList):
    go_type = "[]string"


class _AnyList(GoList):
    go_type = "[]interface {}"


# -- tools ----------------------------------------------------------------------------------
class PropertyType(GoList):
    """``api.PropertyType``: one JSON type name or several."""

    go_type = "api.PropertyType"

    def go_string(self) -> str | None:
        if not self:
            return ""
        if len(self) == 1:
            return str(self[0])
        return "[" + " ".join(self) + "]"

    def go_json(self) -> str | None:
        if len(self) == 1:
            return marshal(self[0])
        return "null" if self.nil else marshal(list(self))


_TS = {"string": "string", "number": "number", "integer": "number", "boolean": "boolean",
       "array": "any[]", "object": "Record<string, any>", "null": "null"}


class ToolProperty(GoStruct):
    go_type = "api.ToolProperty"
    go_fields = ("AnyOf", "Type", "Items", "Description", "Enum", "Properties", "Required")
    go_methods: ClassVar[dict[str, tuple[str, tuple[str, ...], str | None]]] = {
        "ToTypeScriptType": ("to_typescript_type", (), None)}

    def __init__(self, AnyOf: GoList | None = None, Type: PropertyType | None = None,  # noqa: N803
                 Items: Any = None, Description: str = "", Enum: GoList | None = None,  # noqa: N803
                 Properties: Any = None, Required: GoList | None = None) -> None:  # noqa: N803
        self.AnyOf = AnyOf if AnyOf is not None else _PropertyList(nil=True)
        self.Type = Type if Type is not None else PropertyType(nil=True)
        self.Items = Items
        self.Description = Description
        self.Enum = Enum if Enum is not None else _AnyList(nil=True)
        self.Properties = Properties if Properties is not None else GoNilPointer(
            "*api.ToolPropertiesMap")
        self.Required = Required if Required is not None else _StringList(nil=True)

    def go_json_fields(self) -> list[tuple[str, Any, bool]]:
        return [("anyOf", self.AnyOf, True), ("type", self.Type, True),
                ("items", self.Items, True), ("description", self.Description, True),
                ("enum", self.Enum, True), ("properties", self.Properties, True),
                ("required", self.Required, True)]

    def to_typescript_type(self) -> str:
        if self.AnyOf:
            return " | ".join(p.to_typescript_type() for p in self.AnyOf)
        if not self.Type:
            return "any"
        return " | ".join(_TS.get(t, "any") for t in self.Type)


class _PropertyList(GoList):
    go_type = "[]api.ToolProperty"


class ToolPropertiesMap(GoStruct):
    """``*api.ToolPropertiesMap``: properties in the order they were sent."""

    go_type = "api.ToolPropertiesMap"
    go_pointer = True
    go_methods: ClassVar[dict[str, tuple[str, tuple[str, ...], str | None]]] = {
        "ToMap": ("to_map", (), None)}

    def __init__(self, items: dict[str, ToolProperty]) -> None:
        self.items = items

    def go_json(self) -> str | None:
        return "{" + ",".join(f"{marshal(k)}:{marshal(v)}" for k, v in self.items.items()) + "}"

    def to_map(self) -> TemplateProperties:
        return TemplateProperties(self.items)


class TemplateProperties(GoMap):
    go_type = "template.templateProperties"

    def zero(self) -> Any:
        return ToolProperty()

    def go_string(self) -> str | None:
        return "{}" if self.nil else marshal(self)


def tool_property(raw: Any) -> ToolProperty:
    t = _get(raw, "type")
    ptype = PropertyType([t] if isinstance(t, str) else [str(x) for x in t]) if t is not None \
        else PropertyType(nil=True)
    any_of = _get(raw, "anyOf")
    enum = _get(raw, "enum")
    props = _get(raw, "properties")
    items = _get(raw, "items")
    return ToolProperty(
        AnyOf=_PropertyList(tool_property(p) for p in any_of) if any_of else None,
        Type=ptype,
        Items=free_form(items) if items is not None else None,
        Description=str(_get(raw, "description", "")),
        Enum=_AnyList(free_form(list(enum))) if enum else None,
        Properties=properties_map(props) if props is not None else None,
        Required=_strings(_get(raw, "required")) if _get(raw, "required") else None)


def properties_map(raw: Any) -> ToolPropertiesMap:
    if not isinstance(raw, Mapping):
        raise TemplateError("tools: properties must be an object")
    return ToolPropertiesMap({str(k): tool_property(v) for k, v in raw.items()})


class TemplateToolFunctionParameters(GoStruct):
    go_type = "template.templateToolFunctionParameters"
    go_fields = ("Type", "Defs", "Items", "Required", "Properties")

    def __init__(self, raw: Any) -> None:
        self.Type = str(_get(raw, "type", ""))
        defs, items = _get(raw, "$defs"), _get(raw, "items")
        self.Defs = free_form(defs) if defs is not None else None
        self.Items = free_form(items) if items is not None else None
        self.Required = _strings(_get(raw, "required"))
        props = _get(raw, "properties")
        self.Properties = TemplateProperties(properties_map(props).items) if props is not None \
            else TemplateProperties(nil=True)

    def go_json_fields(self) -> list[tuple[str, Any, bool]]:
        return [("type", self.Type, False), ("$defs", self.Defs, True),
                ("items", self.Items, True), ("required", self.Required, True),
                ("properties", self.Properties, False)]


class TemplateToolFunction(GoStruct):
    go_type = "template.templateToolFunction"
    go_fields = ("Name", "Description", "Parameters")

    def __init__(self, raw: Any) -> None:
        self.Name = str(_get(raw, "name", ""))
        self.Description = str(_get(raw, "description", ""))
        self.Parameters = TemplateToolFunctionParameters(_get(raw, "parameters", {}))

    def go_json_fields(self) -> list[tuple[str, Any, bool]]:
        return [("name", self.Name, False), ("description", self.Description, False),
                ("parameters", self.Parameters, False)]


class TemplateTool(GoStruct):
    go_type = "template.templateTool"
    go_fields = ("Type", "Items", "Function")

    def __init__(self, raw: Any) -> None:
        self.Type = str(_get(raw, "type", ""))
        items = _get(raw, "items")
        self.Items = free_form(items) if items is not None else None
        self.Function = TemplateToolFunction(_get(raw, "function", {}))

    def go_json_fields(self) -> list[tuple[str, Any, bool]]:
        return [("type", self.Type, False), ("items", self.Items, True),
                ("function", self.Function, False)]


class TemplateTools(GoList):
    go_type = "template.templateTools"

    def go_string(self) -> str | None:
        return marshal(self)


def template_tools(tools: Iterable[Any] | None) -> TemplateTools:
    if tools is None:
        return TemplateTools(nil=True)
    return TemplateTools(TemplateTool(t) for t in tools)


# -- messages -------------------------------------------------------------------------------
class TemplateArgs(GoMap):
    go_type = "template.templateArgs"

    def go_string(self) -> str | None:
        return "{}" if self.nil else marshal(self)


class TemplateToolCallFunction(GoStruct):
    go_type = "template.templateToolCallFunction"
    go_fields = ("Index", "Name", "Arguments")

    def __init__(self, raw: Any) -> None:
        self.Index = int(_get(raw, "index", 0))
        self.Name = str(_get(raw, "name", ""))
        args = _get(raw, "arguments")
        if args is not None and not isinstance(args, Mapping):
            raise TemplateError("tool_calls: function.arguments must be an object")
        self.Arguments = TemplateArgs(free_form(args)) if args is not None else TemplateArgs(
            nil=True)


class TemplateToolCall(GoStruct):
    go_type = "template.templateToolCall"
    go_fields = ("ID", "Function")

    def __init__(self, raw: Any) -> None:
        self.ID = str(_get(raw, "id", ""))
        self.Function = TemplateToolCallFunction(_get(raw, "function", {}))


class _ToolCalls(GoList):
    go_type = "[]template.templateToolCall"


class _Images(GoList):
    go_type = "[]api.ImageData"


class TemplateMessage(GoStruct):
    go_type = "template.templateMessage"
    go_fields = ("Role", "Content", "Thinking", "Images", "ToolCalls", "ToolName", "ToolCallID")
    go_pointer = True

    def __init__(self, role: str, content: str, thinking: str = "", images: _Images | None = None,
                 tool_calls: _ToolCalls | None = None, tool_name: str = "",
                 tool_call_id: str = "") -> None:
        self.Role = role
        self.Content = content
        self.Thinking = thinking
        self.Images = images if images is not None else _Images(nil=True)
        self.ToolCalls = tool_calls if tool_calls is not None else _ToolCalls(nil=True)
        self.ToolName = tool_name
        self.ToolCallID = tool_call_id


class TemplateMessages(GoList):
    go_type = "[]*template.templateMessage"


def _image(raw: Any) -> bytes:
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    try:
        return base64.b64decode(str(raw), validate=True)
    except ValueError:
        raise TemplateError("messages: an image is not valid base64") from None


def template_message(raw: Any) -> TemplateMessage:
    images = _get(raw, "images")
    calls = _get(raw, "tool_calls")
    return TemplateMessage(
        role=str(_get(raw, "role", "")),
        content=str(_get(raw, "content", "")),
        thinking=str(_get(raw, "thinking", "")),
        images=_Images(_image(i) for i in images) if images else None,
        tool_calls=_ToolCalls(TemplateToolCall(c) for c in calls) if calls else None,
        tool_name=str(_get(raw, "tool_name", "")),
        tool_call_id=str(_get(raw, "tool_call_id", "")))
