"""The parse tree of a Go template, node for node as Go's ``text/template/parse`` builds it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Node:
    pos: int


@dataclass(slots=True)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class TextNode(Node):
    text: str


@dataclass(slots=True)
class DotNode(Node):
    pass


@dataclass(slots=True)
class NilNode(Node):
    pass


@dataclass(slots=True)
class BoolNode(Node):
    value: bool


@dataclass(slots=True)
class StringNode(Node):
    quoted: str
    text: str


@dataclass(slots=True)
class NumberNode(Node):
    text: str
    is_int: bool
    is_float: bool
    int_value: int
    float_value: float


@dataclass(slots=True)
class FieldNode(Node):
    ident: tuple[str, ...]


@dataclass(slots=True)
class VariableNode(Node):
    ident: tuple[str, ...]  # ("$x", "Field", ...)


@dataclass(slots=True)
class IdentifierNode(Node):
    name: str


@dataclass(slots=True)
class ChainNode(Node):
    node: Node
    fields: tuple[str, ...]


@dataclass(slots=True)
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class PipeNode(Node):
    decl: list[VariableNode] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)


@dataclass(slots=True)
class ActionNode(Node):
    pipe: PipeNode


@dataclass(slots=True)
class BranchNode(Node):
    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None


@dataclass(slots=True)
class IfNode(BranchNode):
    pass


@dataclass(slots=True)
class RangeNode(BranchNode):
    pass


@dataclass(slots=True)
class WithNode(BranchNode):
    pass


@dataclass(slots=True)
class TemplateNode(Node):
    name: str
    pipe: PipeNode | None


@dataclass(slots=True)
class BreakNode(Node):
    pass


@dataclass(slots=True)
class ContinueNode(Node):
    pass


@dataclass(slots=True)
class EndNode(Node):  # only while parsing: {{end}}
    pass


@dataclass(slots=True)
class ElseNode(Node):  # only while parsing: {{else}}
    pass


def describe(node: Node) -> str:
    """The node as template source, for error messages (Go's ``Node.String``)."""
    match node:
        case FieldNode(ident=ident):
            return "." + ".".join(ident)
        case VariableNode(ident=ident):
            return ".".join(ident)
        case IdentifierNode(name=name):
            return name
        case DotNode():
            return "."
        case NilNode():
            return "nil"
        case BoolNode(value=value):
            return "true" if value else "false"
        case StringNode(quoted=quoted):
            return quoted
        case NumberNode(text=text):
            return text
        case ChainNode(node=inner, fields=fields):
            base = describe(inner)
            if isinstance(inner, PipeNode):
                base = f"({base})"
            return base + "".join("." + f for f in fields)
        case CommandNode(args=args):
            return " ".join(
                f"({describe(a)})" if isinstance(a, PipeNode) else describe(a) for a in args)
        case PipeNode(decl=decl, is_assign=is_assign, cmds=cmds):
            head = ""
            if decl:
                head = ", ".join(describe(v) for v in decl) + (" = " if is_assign else " := ")
            return head + " | ".join(describe(c) for c in cmds)
    return type(node).__name__
