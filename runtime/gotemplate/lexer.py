"""Tokens of Go's text/template: the text between actions, and the words inside ``{{ }}``.

Follows Go's ``text/template/parse`` lexer: ``{{-`` and ``-}}`` (the dash needs a space on its
inner side) trim the whitespace next to them, ``{{/* */}}`` is a comment, actions may span lines,
and every error names the line and column it was found at.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..errors import TemplateError


class T(enum.Enum):
    TEXT = "text"
    LEFT = "{{"
    RIGHT = "}}"
    SPACE = "space"
    FIELD = "field"
    VARIABLE = "variable"
    IDENT = "identifier"
    KEYWORD = "keyword"
    STRING = "string"
    RAW = "raw string"
    CHAR = "character constant"
    NUMBER = "number"
    BOOL = "bool"
    NIL = "nil"
    DOT = "."
    PIPE = "|"
    LPAREN = "("
    RPAREN = ")"
    DECLARE = ":="
    ASSIGN = "="
    COMMA = ","
    OTHER = "char"
    EOF = "EOF"


KEYWORDS = {"block", "break", "continue", "define", "else", "end", "if", "range", "template",
            "with"}
_SPACE = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str
    pos: int


def position(src: str, pos: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    line = src.count("\n", 0, pos) + 1
    return line, pos - (src.rfind("\n", 0, pos) + 1) + 1


def error_at(src: str, pos: int, message: str) -> TemplateError:
    line, col = position(src, pos)
    return TemplateError(f"template: line {line}, column {col}: {message}")


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalnum()


def tokenize(src: str) -> list[Token]:
    return _Lexer(src).run()


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.out: list[Token] = []
        self.parens = 0

    def err(self, pos: int, message: str) -> TemplateError:
        return error_at(self.src, pos, message)

    def emit(self, kind: T, start: int, text: str | None = None) -> None:
        self.out.append(Token(kind, self.src[start : self.pos] if text is None else text, start))

    def run(self) -> list[Token]:
        src = self.src
        while True:
            start = self.pos
            i = src.find("{{", self.pos)
            if i < 0:
                if start < len(src):
                    self.pos = len(src)
                    self.emit(T.TEXT, start)
                self.out.append(Token(T.EOF, "", len(src)))
                return self.out
            trim = src.startswith("-", i + 2) and i + 3 < len(src) and src[i + 3] in _SPACE
            text = src[start:i]
            if trim:
                text = text.rstrip(_SPACE)
            if text:
                self.out.append(Token(T.TEXT, text, start))
            self.pos = i + (4 if trim else 2)
            if src.startswith("/*", self.pos):
                self.comment(i)
            else:
                self.out.append(Token(T.LEFT, "{{", i))
                self.inside(i)

    def at_right(self) -> tuple[bool, bool]:
        src, p = self.src, self.pos
        if p + 1 < len(src) and src[p] in _SPACE and src[p + 1] == "-" and \
                src.startswith("}}", p + 2):
            return True, True
        return src.startswith("}}", p), False

    def skip_space_after(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos] in _SPACE:
            self.pos += 1

    def comment(self, left: int) -> None:
        end = self.src.find("*/", self.pos + 2)
        if end < 0:
            raise self.err(left, "unclosed comment")
        self.pos = end + 2
        delim, trim = self.at_right()
        if not delim:
            raise self.err(left, "comment ends before closing delimiter")
        self.pos += 4 if trim else 2
        if trim:
            self.skip_space_after()

    def inside(self, left: int) -> None:
        src = self.src
        while True:
            delim, trim = self.at_right()
            if delim:
                if self.parens:
                    raise self.err(self.pos, "unclosed left paren")
                start = self.pos
                self.pos += 4 if trim else 2
                self.emit(T.RIGHT, start, "}}")
                if trim:
                    self.skip_space_after()
                return
            if self.pos >= len(src):
                raise self.err(left, "unclosed action")
            start = self.pos
            c = src[start]
            if c in _SPACE:
                while self.pos < len(src) and src[self.pos] in _SPACE:
                    self.pos += 1
                if src.startswith("-}}", self.pos):
                    self.pos -= 1  # that space belongs to the " -}}" delimiter
                if self.pos > start:
                    self.emit(T.SPACE, start)
            elif c == "=":
                self.pos += 1
                self.emit(T.ASSIGN, start)
            elif c == ":":
                if not src.startswith(":=", start):
                    raise self.err(start, "expected :=")
                self.pos += 2
                self.emit(T.DECLARE, start)
            elif c == "|":
                self.pos += 1
                self.emit(T.PIPE, start)
            elif c == '"':
                self.quoted(start, '"', T.STRING, "quoted string")
            elif c == "`":
                end = src.find("`", start + 1)
                if end < 0:
                    raise self.err(start, "unterminated raw quoted string")
                self.pos = end + 1
                self.emit(T.RAW, start)
            elif c == "$":
                self.field_or_variable(T.VARIABLE)
            elif c == "'":
                self.quoted(start, "'", T.CHAR, "character constant")
            elif c == ".":
                if start + 1 < len(src) and src[start + 1].isdigit():
                    self.number(start)
                else:
                    self.field_or_variable(T.FIELD)
            elif c in "+-" or c.isdigit():
                self.number(start)
            elif _is_alnum(c):
                while self.pos < len(src) and _is_alnum(src[self.pos]):
                    self.pos += 1
                word = src[start : self.pos]
                if not self.at_terminator():
                    raise self.err(self.pos, f"bad character {_rune(src[self.pos])}")
                if word in KEYWORDS:
                    self.emit(T.KEYWORD, start)
                elif word in ("true", "false"):
                    self.emit(T.BOOL, start)
                elif word == "nil":
                    self.emit(T.NIL, start)
                else:
                    self.emit(T.IDENT, start)
            elif c == "(":
                self.pos += 1
                self.parens += 1
                self.emit(T.LPAREN, start)
            elif c == ")":
                self.pos += 1
                self.parens -= 1
                if self.parens < 0:
                    raise self.err(start, "unexpected right paren")
                self.emit(T.RPAREN, start)
            elif c == ",":
                self.pos += 1
                self.emit(T.COMMA, start)
            elif c.isascii() and c.isprintable():
                self.pos += 1
                self.emit(T.OTHER, start)
            else:
                raise self.err(start, f"unrecognized character in action: {_rune(c)}")

    def at_terminator(self) -> bool:
        if self.pos >= len(self.src):
            return True
        c = self.src[self.pos]
        return c in _SPACE or c in ".,|:()" or self.src.startswith("}}", self.pos)

    def field_or_variable(self, kind: T) -> None:
        start = self.pos
        self.pos += 1
        if self.at_terminator():
            self.emit(T.DOT if kind is T.FIELD else T.VARIABLE, start)
            return
        while self.pos < len(self.src) and _is_alnum(self.src[self.pos]):
            self.pos += 1
        if not self.at_terminator():
            raise self.err(self.pos, f"bad character {_rune(self.src[self.pos])}")
        self.emit(kind, start)

    def quoted(self, start: int, quote: str, kind: T, what: str) -> None:
        """A "string" or 'c' constant: backslash escapes, no newline, closed on this line."""
        src, i = self.src, start + 1
        while True:
            if i >= len(src) or src[i] == "\n":
                raise self.err(start, f"unterminated {what}")
            if src[i] == "\\":
                if i + 1 >= len(src) or src[i + 1] == "\n":
                    raise self.err(start, f"unterminated {what}")
                i += 2
                continue
            if src[i] == quote:
                break
            i += 1
        self.pos = i + 1
        self.emit(kind, start)

    def number(self, start: int) -> None:
        src, i = self.src, start
        if i < len(src) and src[i] in "+-":
            i += 1
        digits = "0123456789_"
        exp = "eE"
        if src.startswith(("0x", "0X"), i):
            i += 2
            digits, exp = "0123456789abcdefABCDEF_", "pP"
        elif src.startswith(("0o", "0O"), i):
            i += 2
            digits = "01234567_"
        elif src.startswith(("0b", "0B"), i):
            i += 2
            digits = "01_"
        while i < len(src) and src[i] in digits:
            i += 1
        if i < len(src) and src[i] == ".":
            i += 1
            while i < len(src) and src[i] in digits:
                i += 1
        if len(digits) > 2 and i < len(src) and src[i] in exp:
            i += 1
            if i < len(src) and src[i] in "+-":
                i += 1
            while i < len(src) and src[i] in "0123456789_":
                i += 1
        if i < len(src) and src[i] == "i":
            raise self.err(start, "complex numbers are not supported")
        if i < len(src) and _is_alnum(src[i]):
            raise self.err(start, f"bad number syntax: {src[start : i + 1]!r}")
        self.pos = i
        self.emit(T.NUMBER, start)


def _rune(c: str) -> str:
    return f"U+{ord(c):04X} {c!r}"
