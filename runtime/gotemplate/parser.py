"""Go text/template source to a parse tree (the main template plus its ``define``/``block``s).

The grammar and its checks are Go's: functions must be known at parse time, variables must be
declared before use (and are scoped to the enclosing control structure), ``break``/``continue``
only inside ``range``, ``define`` only at the top level, no non-executable pipeline stages.
"""

from __future__ import annotations

from collections.abc import Collection

from . import nodes as n
from .lexer import T, Token, error_at, tokenize

_SIMPLE_ESC = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}


class Parsed:
    """A parsed template set: ``root`` is the main template, ``defs`` the named ones."""

    def __init__(self, source: str, root: n.ListNode, defs: dict[str, n.ListNode]) -> None:
        self.source = source
        self.root = root
        self.defs = defs


def parse(source: str, funcs: Collection[str]) -> Parsed:
    tokens = tokenize(source)
    defs: dict[str, n.ListNode] = {}
    root = _Parser(source, tokens, funcs, defs).parse_main()
    return Parsed(source, root, defs)


def is_empty(node: n.Node) -> bool:
    """Go's IsEmptyTree: only whitespace text (and nothing else) in the list."""
    if isinstance(node, n.ListNode):
        return all(is_empty(c) for c in node.nodes)
    return isinstance(node, n.TextNode) and not node.text.strip(" \t\r\n")


class _Parser:
    def __init__(self, src: str, tokens: list[Token], funcs: Collection[str],
                 defs: dict[str, n.ListNode]) -> None:
        self.src = src
        self.tokens = tokens
        self.i = 0
        self.funcs = funcs
        self.defs = defs
        self.vars = ["$"]
        self.range_depth = 0

    # -- tokens -----------------------------------------------------------------------------
    def err(self, pos: int, message: str) -> Exception:
        return error_at(self.src, pos, message)

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not T.EOF:
            self.i += 1
        return tok

    def backup(self, count: int = 1) -> None:
        self.i -= count

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next_nonspace(self) -> Token:
        tok = self.next()
        while tok.kind is T.SPACE:
            tok = self.next()
        return tok

    def peek_nonspace(self) -> Token:
        tok = self.next_nonspace()
        if tok.kind is not T.EOF:
            self.backup()
        return tok

    def unexpected(self, tok: Token, context: str) -> Exception:
        if tok.kind is T.EOF:
            shown = "EOF"
        elif tok.kind is T.KEYWORD:
            shown = f"<{tok.text}>"
        else:
            shown = _go_quote(tok.text if len(tok.text) <= 10 else tok.text[:10]) + (
                "..." if len(tok.text) > 10 else "")
        return self.err(tok.pos, f"unexpected {shown} in {context}")

    def expect(self, kind: T, context: str) -> Token:
        tok = self.next_nonspace()
        if tok.kind is not kind:
            raise self.unexpected(tok, context)
        return tok

    # -- structure --------------------------------------------------------------------------
    def parse_main(self) -> n.ListNode:
        root = n.ListNode(0)
        while self.peek().kind is not T.EOF:
            if self.peek().kind is T.LEFT:
                at = self.i
                self.next()
                tok = self.next_nonspace()
                if tok.kind is T.KEYWORD and tok.text == "define":
                    self.definition()
                    continue
                self.i = at
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                raise self.err(node.pos, f"unexpected {{{{{_word(node)}}}}}")
            root.nodes.append(node)
        self.add("", root)
        return root

    def add(self, name: str, body: n.ListNode, pos: int = 0) -> None:
        old = self.defs.get(name)
        if old is None or is_empty(old):
            self.defs[name] = body
        elif not is_empty(body):
            raise self.err(pos, f"template: multiple definition of template {name!r}")

    def sub_parser(self) -> _Parser:
        sub = _Parser(self.src, self.tokens, self.funcs, self.defs)
        sub.i = self.i
        return sub

    def definition(self) -> None:
        tok = self.next_nonspace()
        name = self.template_name(tok, "define clause")
        self.expect(T.RIGHT, "define clause")
        sub = self.sub_parser()
        body, end = sub.item_list()
        self.i = sub.i
        if not isinstance(end, n.EndNode):
            raise self.err(end.pos, f"unexpected {{{{{_word(end)}}}}} in define clause")
        self.add(name, body, tok.pos)

    def template_name(self, tok: Token, context: str) -> str:
        if tok.kind in (T.STRING, T.RAW):
            return unquote(self, tok)
        raise self.unexpected(tok, context)

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        lst = n.ListNode(self.peek_nonspace().pos)
        while self.peek_nonspace().kind is not T.EOF:
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                return lst, node
            lst.nodes.append(node)
        raise self.err(len(self.src), "unexpected EOF")

    def text_or_action(self) -> n.Node:
        tok = self.next_nonspace()
        if tok.kind is T.TEXT:
            return n.TextNode(tok.pos, tok.text)
        if tok.kind is T.LEFT:
            return self.action()
        raise self.unexpected(tok, "input")

    def action(self) -> n.Node:
        tok = self.next_nonspace()
        if tok.kind is T.KEYWORD:
            word = tok.text
            if word == "block":
                return self.block()
            if word in ("break", "continue"):
                end = self.next_nonspace()
                if end.kind is not T.RIGHT:
                    raise self.unexpected(end, f"{{{{{word}}}}}")
                if self.range_depth == 0:
                    raise self.err(tok.pos, f"{{{{{word}}}}} outside {{{{range}}}}")
                return n.BreakNode(tok.pos) if word == "break" else n.ContinueNode(tok.pos)
            if word == "else":
                peek = self.peek_nonspace()
                if peek.kind is T.KEYWORD and peek.text in ("if", "with"):
                    return n.ElseNode(peek.pos)
                self.expect(T.RIGHT, "else")
                return n.ElseNode(tok.pos)
            if word == "end":
                self.expect(T.RIGHT, "end")
                return n.EndNode(tok.pos)
            if word in ("if", "range", "with"):
                return self.control(word, tok.pos)
            if word == "template":
                return self.template()
        self.backup()
        start = self.peek()
        return n.ActionNode(start.pos, self.pipeline("command", T.RIGHT))

    def control(self, context: str, pos: int) -> n.BranchNode:
        mark = len(self.vars)
        pipe = self.pipeline(context, T.RIGHT)
        if context == "range":
            self.range_depth += 1
        body, nxt = self.item_list()
        if context == "range":
            self.range_depth -= 1
        else_list: n.ListNode | None = None
        if isinstance(nxt, n.ElseNode):
            peek = self.peek()
            if context in ("if", "with") and peek.kind is T.KEYWORD and peek.text == context:
                self.next()
                else_list = n.ListNode(nxt.pos, [self.control(context, peek.pos)])
            else:
                else_list, end = self.item_list()
                if not isinstance(end, n.EndNode):
                    raise self.err(end.pos, f"expected end; found {{{{{_word(end)}}}}}")
        del self.vars[mark:]
        cls = {"if": n.IfNode, "range": n.RangeNode, "with": n.WithNode}[context]
        return cls(pos, pipe, body, else_list)

    def template(self) -> n.TemplateNode:
        tok = self.next_nonspace()
        name = self.template_name(tok, "template clause")
        pipe = None
        if self.next_nonspace().kind is not T.RIGHT:
            self.backup()
            pipe = self.pipeline("template clause", T.RIGHT)
        return n.TemplateNode(tok.pos, name, pipe)

    def block(self) -> n.TemplateNode:
        tok = self.next_nonspace()
        name = self.template_name(tok, "block clause")
        pipe = self.pipeline("block clause", T.RIGHT)
        sub = self.sub_parser()
        body, end = sub.item_list()
        self.i = sub.i
        if not isinstance(end, n.EndNode):
            raise self.err(end.pos, f"unexpected {{{{{_word(end)}}}}} in block clause")
        self.add(name, body, tok.pos)
        return n.TemplateNode(tok.pos, name, pipe)

    # -- pipelines --------------------------------------------------------------------------
    def pipeline(self, context: str, end: T) -> n.PipeNode:
        start = self.peek_nonspace()
        pipe = n.PipeNode(start.pos)
        self.declarations(pipe, context)
        while True:
            tok = self.next_nonspace()
            if tok.kind is end:
                self.check_pipeline(pipe, context, tok)
                return pipe
            if tok.kind in (T.BOOL, T.CHAR, T.DOT, T.FIELD, T.IDENT, T.NUMBER, T.NIL, T.RAW,
                            T.STRING, T.VARIABLE, T.LPAREN):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def declarations(self, pipe: n.PipeNode, context: str) -> None:
        while True:
            var = self.peek_nonspace()
            if var.kind is not T.VARIABLE:
                return
            at = self.i
            self.next_nonspace()
            nxt = self.peek_nonspace()
            if nxt.kind in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.kind is T.ASSIGN
                self.next_nonspace()
                pipe.decl.append(n.VariableNode(var.pos, (var.text,)))
                self.vars.append(var.text)
                return
            if nxt.kind is T.COMMA:
                self.next_nonspace()
                pipe.decl.append(n.VariableNode(var.pos, (var.text,)))
                self.vars.append(var.text)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_nonspace().kind in (T.VARIABLE, T.RIGHT, T.RPAREN):
                        continue
                    raise self.err(nxt.pos, "range can only initialize variables")
                raise self.err(nxt.pos, f"too many declarations in {context}")
            self.i = at  # not a declaration: the variable starts the first command
            return

    def check_pipeline(self, pipe: n.PipeNode, context: str, tok: Token) -> None:
        if not pipe.cmds:
            raise self.err(tok.pos, f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], n.BoolNode | n.DotNode | n.NilNode | n.NumberNode |
                          n.StringNode):
                raise self.err(cmd.pos, f"non executable command in pipeline stage {i}")

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_nonspace().pos)
        while True:
            self.peek_nonspace()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind is T.SPACE:
                continue
            if tok.kind in (T.RIGHT, T.RPAREN):
                self.backup()
            elif tok.kind is not T.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.err(cmd.pos, "empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().kind is T.FIELD:
            fields: list[str] = []
            while self.peek().kind is T.FIELD:
                fields.append(self.next().text[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(node.pos, node.ident + tuple(fields))
            if isinstance(node, n.VariableNode):
                return n.VariableNode(node.pos, node.ident + tuple(fields))
            if isinstance(node, n.BoolNode | n.StringNode | n.NumberNode | n.NilNode |
                          n.DotNode):
                raise self.err(node.pos, f"unexpected . after term {n.describe(node)!r}")
            return n.ChainNode(node.pos, node, tuple(fields))
        return node

    def term(self) -> n.Node | None:
        tok = self.next_nonspace()
        kind = tok.kind
        if kind is T.IDENT:
            if tok.text not in self.funcs:
                raise self.err(tok.pos, f"function {tok.text!r} not defined")
            return n.IdentifierNode(tok.pos, tok.text)
        if kind is T.DOT:
            return n.DotNode(tok.pos)
        if kind is T.NIL:
            return n.NilNode(tok.pos)
        if kind is T.VARIABLE:
            ident = tuple(tok.text.split("."))
            if ident[0] not in self.vars:
                raise self.err(tok.pos, f"undefined variable {ident[0]!r}")
            return n.VariableNode(tok.pos, ident)
        if kind is T.FIELD:
            return n.FieldNode(tok.pos, (tok.text[1:],))
        if kind is T.BOOL:
            return n.BoolNode(tok.pos, tok.text == "true")
        if kind in (T.CHAR, T.NUMBER):
            return number(self, tok)
        if kind is T.LPAREN:
            return self.pipeline("parenthesized pipeline", T.RPAREN)
        if kind in (T.STRING, T.RAW):
            return n.StringNode(tok.pos, tok.text, unquote(self, tok))
        self.backup()
        return None


def _word(node: n.Node) -> str:
    return "end" if isinstance(node, n.EndNode) else "else"


def _go_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# -- literals -------------------------------------------------------------------------------
def unquote(p: _Parser, tok: Token) -> str:
    """Go's strconv.Unquote for a string, raw string or character token."""
    text = tok.text
    if tok.kind is T.RAW:
        return text[1:-1].replace("\r", "")
    quote = text[0]
    body = text[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            if c == quote:
                raise p.err(tok.pos, "invalid syntax")
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= len(body):
            raise p.err(tok.pos, "invalid syntax")
        e = body[i + 1]
        i += 2
        if e in _SIMPLE_ESC:
            out.append(_SIMPLE_ESC[e])
        elif e in "'\"":
            if e != quote:
                raise p.err(tok.pos, "invalid syntax")
            out.append(ord(e))
        elif e in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i : i + size]
            if len(digits) != size or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise p.err(tok.pos, "invalid syntax")
            i += size
            value = int(digits, 16)
            if e == "x":
                if quote == "'":
                    out += chr(value).encode("utf-8")
                else:
                    out.append(value)
            else:
                if value > 0x10FFFF or 0xD800 <= value < 0xE000:
                    raise p.err(tok.pos, "invalid syntax")
                out += chr(value).encode("utf-8")
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or not all(d in "01234567" for d in digits):
                raise p.err(tok.pos, "invalid syntax")
            i += 2
            value = int(digits, 8)
            if value > 255:
                raise p.err(tok.pos, "invalid syntax")
            if quote == "'":
                out += chr(value).encode("utf-8")
            else:
                out.append(value)
        else:
            raise p.err(tok.pos, "invalid syntax")
    result = out.decode("utf-8", "surrogateescape")
    if quote == "'" and len(result) != 1:
        raise p.err(tok.pos, f"malformed character constant: {text}")
    return result


def _parse_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, ...) without the range check."""
    body = text[1:] if text[:1] in "+-" else text
    base, digits = 10, body
    if body[:2].lower() in ("0x", "0o", "0b"):
        base, digits = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
        if digits.startswith("_"):
            digits = digits[1:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:].lstrip("_") if body[1:2] == "_" else body[1:]
    if not digits or digits.startswith("_") or digits.endswith("_") or "__" in digits:
        return None
    try:
        value = int(digits.replace("_", ""), base)
    except ValueError:
        return None
    return -value if text.startswith("-") else value


def _parse_float(text: str) -> float | None:
    body = text.replace("_", "")
    try:
        if body.lstrip("+-")[:2].lower() == "0x":
            sign = -1.0 if body.startswith("-") else 1.0
            return sign * float.fromhex(body.lstrip("+-"))
        return float(body)
    except ValueError:
        return None


def number(p: _Parser, tok: Token) -> n.NumberNode:
    text = tok.text
    if tok.kind is T.CHAR:
        value = ord(unquote(p, tok))
        return n.NumberNode(tok.pos, text, True, True, value, float(value))
    as_int = _parse_int(text)
    if as_int is not None and not (-(2**63) <= as_int < 2**64):
        as_int = None
        if not any(c in text for c in ".eEpP") and text[:2].lower() != "0x":
            raise p.err(tok.pos, f"integer overflow: {text!r}")
    if as_int is not None:
        ok_int = -(2**63) <= as_int < 2**63
        if not ok_int:
            raise p.err(tok.pos, f"{text} overflows int")
        return n.NumberNode(tok.pos, text, True, True, as_int, float(as_int))
    f = _parse_float(text)
    if f is None:
        raise p.err(tok.pos, f"illegal number syntax: {text!r}")
    if not any(c in text for c in ".eEpP"):
        raise p.err(tok.pos, f"integer overflow: {text!r}")
    is_int = f == f and abs(f) != float("inf") and float(int(f)) == f and -(2**63) <= f < 2**63
    return n.NumberNode(tok.pos, text, is_int, True, int(f) if is_int else 0, f)
