"""A JQL subset: tokenizer and parser to a small AST.

Grammar (case-insensitive keywords)::

    query    := [or_expr] [ORDER BY term ("," term)*]
    or_expr  := and_expr (OR and_expr)*
    and_expr := not_expr (AND not_expr)*
    not_expr := NOT not_expr | "(" or_expr ")" | clause
    clause   := field op value | field [NOT] IN "(" value ("," value)* ")" | field IS [NOT] (EMPTY | NULL)
    op       := = | != | > | >= | < | <= | ~ | !~
    value    := "string" | 'string' | word | number | function "(" [value ("," value)*] ")"
    term     := field [ASC | DESC]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["And", "Clause", "Func", "JqlError", "Node", "Not", "Or", "OrderTerm", "Query", "parse"]


class JqlError(ValueError):
    """A query Jira would refuse with 400; the message is shown to the client."""


@dataclass(frozen=True)
class Func:
    name: str
    args: tuple[str, ...] = ()


Value = str | Func


@dataclass(frozen=True)
class Clause:
    field: str  # lower-cased field name as written (e.g. "updated", "cf[10020]")
    op: str  # "=", "!=", ">", ">=", "<", "<=", "~", "!~", "in", "not in", "is", "is not"
    values: tuple[Value, ...]
    quoted: tuple[bool, ...] = ()


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class OrderTerm:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[OrderTerm, ...] = field(default_factory=tuple)


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!<>~]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # str | op | punct | word
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(
                f"Error in the JQL Query: the character '{text[pos]}' is a reserved JQL character. "
                f"(line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        if kind == "str":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(_Tok(kind, raw))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> _Tok | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        """Consume the keywords ``words`` if they come next (unquoted)."""
        for i, word in enumerate(words):
            tok = self.peek(i)
            if tok is None or tok.kind != "word" or tok.text.lower() != word:
                return False
        self.pos += len(words)
        return True

    def expect_punct(self, char: str) -> None:
        tok = self.peek()
        if tok is None or tok.kind != "punct" or tok.text != char:
            found = tok.text if tok else "the end of the query"
            raise JqlError(f"Error in the JQL Query: Expecting '{char}' but got '{found}'.")
        self.pos += 1

    def query(self) -> Query:
        where: Node | None = None
        if self.peek() is not None and not self._at_order_by():
            where = self.or_expr()
        order: list[OrderTerm] = []
        if self.keyword("order", "by"):
            while True:
                tok = self.peek()
                if tok is None or tok.kind not in ("word", "str"):
                    raise JqlError("Error in the JQL Query: Expecting a field name after 'order by'.")
                self.pos += 1
                descending = False
                if self.keyword("desc"):
                    descending = True
                else:
                    self.keyword("asc")
                order.append(OrderTerm(tok.text.lower(), descending))
                if self.peek() is not None and self.peek() == _Tok("punct", ","):
                    self.pos += 1
                    continue
                break
        if self.peek() is not None:
            raise JqlError(
                f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{self.peek().text}'."  # type: ignore[union-attr]
            )
        return Query(where, tuple(order))

    def _at_order_by(self) -> bool:
        a, b = self.peek(), self.peek(1)
        return (
            a is not None
            and b is not None
            and a.kind == "word"
            and b.kind == "word"
            and a.text.lower() == "order"
            and b.text.lower() == "by"
        )

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.keyword("and"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Node:
        if self.keyword("not"):
            return Not(self.not_expr())
        tok = self.peek()
        if tok is not None and tok.kind == "punct" and tok.text == "(":
            self.pos += 1
            node = self.or_expr()
            self.expect_punct(")")
            return node
        return self.clause()

    def clause(self) -> Clause:
        tok = self.peek()
        if tok is None or tok.kind not in ("word", "str"):
            found = tok.text if tok else "the end of the query"
            raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{found}'.")
        self.pos += 1
        name = tok.text.lower()
        if self.keyword("not", "in"):
            return self._list_clause(name, "not in")
        if self.keyword("in"):
            return self._list_clause(name, "in")
        if self.keyword("is", "not"):
            return Clause(name, "is not", (self._empty(),))
        if self.keyword("is"):
            return Clause(name, "is", (self._empty(),))
        op = self.peek()
        if op is None or op.kind != "op":
            raise JqlError(
                f"Error in the JQL Query: Expecting operator but got "
                f"'{op.text if op else 'the end of the query'}'."
            )
        self.pos += 1
        value, quoted = self.value()
        return Clause(name, op.text, (value,), (quoted,))

    def _empty(self) -> str:
        if self.keyword("empty") or self.keyword("null"):
            return "empty"
        raise JqlError("Error in the JQL Query: Expecting 'EMPTY' or 'NULL' after 'IS'.")

    def _list_clause(self, name: str, op: str) -> Clause:
        if self.peek() is not None and self.peek() == _Tok("punct", "("):
            self.pos += 1
            values: list[Value] = []
            quoted: list[bool] = []
            while True:
                value, q = self.value()
                values.append(value)
                quoted.append(q)
                if self.peek() == _Tok("punct", ","):
                    self.pos += 1
                    continue
                self.expect_punct(")")
                break
            return Clause(name, op, tuple(values), tuple(quoted))
        value, q = self.value()  # a function such as openSprints()
        return Clause(name, op, (value,), (q,))

    def value(self) -> tuple[Value, bool]:
        tok = self.peek()
        if tok is None or tok.kind not in ("word", "str"):
            raise JqlError(
                f"Error in the JQL Query: Expecting either a value, list or function but got "
                f"'{tok.text if tok else 'the end of the query'}'."
            )
        self.pos += 1
        if tok.kind == "word" and self.peek() == _Tok("punct", "("):
            self.pos += 1
            args: list[str] = []
            while self.peek() != _Tok("punct", ")"):
                arg = self.peek()
                if arg is None:
                    raise JqlError("Error in the JQL Query: unterminated function call.")
                if arg.kind != "punct":
                    args.append(arg.text)
                self.pos += 1
            self.pos += 1
            return Func(tok.text.lower(), tuple(args)), False
        return tok.text, tok.kind == "str"


def parse(text: str) -> Query:
    """Parse ``text``; raises :class:`JqlError` with a Jira-like message."""
    return _Parser(_tokenize(text or "")).query()
