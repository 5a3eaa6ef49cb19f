"""A CQL subset: ``space``, ``type``, ``id``, ``title``, ``label``, ``lastmodified``, ``created``.

Dates follow Confluence: ``"yyyy/MM/dd HH:mm"`` (or ``yyyy/MM/dd``, ``yyyy-MM-dd``) read in the
**calling user's time zone** at **minute precision**, so ``lastmodified >= "2026/11/26 14:30"``
matches saves from 14:30:00.000 local time on, and ``> "… 14:30"`` only from 14:31.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.sandbox.confluence.model import Page, WikiError

__all__ = ["Clause", "CqlQuery", "parse_cql"]

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>>=|<=|!=|=|>|<|\(|\)|,)'
    r"|(?P<word>[^\s=!<>(),\"']+))"
)
_FIELDS = {
    "space",
    "space.key",
    "type",
    "id",
    "title",
    "label",
    "lastmodified",
    "created",
    "ancestor",
    "parent",
}
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass
class CqlQuery:
    clauses: list[Clause]
    order_field: str | None = None
    order_desc: bool = False
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def since_ms(self) -> int | None:
        """The lower bound a ``lastmodified >=/>`` clause puts on the save time, for the index."""
        bounds = [
            self._bound_ms(c) for c in self.clauses if c.field == "lastmodified" and c.op in (">=", ">")
        ]
        return max(bounds) if bounds else None

    def spaces(self) -> set[str] | None:
        keys: set[str] | None = None
        for c in self.clauses:
            if c.field in ("space", "space.key") and c.op in ("=", "in"):
                keys = set(c.values) if keys is None else keys & set(c.values)
        return keys

    def matches(self, page: Page, space_key: str) -> bool:
        return all(self._match(c, page, space_key) for c in self.clauses)

    # --- internals --------------------------------------------------------------------------
    def _minute(self, text: str) -> datetime:
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=self.tz)
            except ValueError:
                continue
        raise WikiError(400, f"Could not parse cql : invalid date '{text}', expected yyyy/MM/dd HH:mm")

    def _bound_ms(self, c: Clause) -> int:
        start = self._minute(c.values[0])
        step = timedelta(minutes=1) if ":" in c.values[0] else timedelta(days=1)
        moment = start + step if c.op == ">" else start
        return int(moment.timestamp() * 1000)

    def _match(self, c: Clause, page: Page, space_key: str) -> bool:
        if c.field in ("lastmodified", "created"):
            moment = page.modified_at if c.field == "lastmodified" else page.created_at
            start = self._minute(c.values[0])
            step = timedelta(minutes=1) if ":" in c.values[0] else timedelta(days=1)
            end = start + step
            return {
                ">=": moment >= start,
                ">": moment >= end,
                "<": moment < start,
                "<=": moment < end,
                "=": start <= moment < end,
                "!=": not start <= moment < end,
            }[c.op]
        actual: list[str]
        if c.field in ("space", "space.key"):
            actual = [space_key]
        elif c.field == "type":
            actual = ["page"]
        elif c.field == "id":
            actual = [page.id]
        elif c.field == "title":
            actual = [page.title]
        elif c.field == "label":
            actual = list(page.labels)
        else:
            actual = [page.parent_id or ""]
        hit = any(v in actual for v in c.values)
        return not hit if c.op in ("!=", "not in") else hit


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise WikiError(400, f"Could not parse cql : {text}")
        pos = m.end()
        tok = m.group("str") or m.group("op") or m.group("word")
        if tok:
            out.append(tok)
    return out


def _unquote(tok: str) -> str:
    if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", tok[1:-1])
    return tok


def parse_cql(text: str, tz: ZoneInfo) -> CqlQuery:
    """Parse ``clause (AND clause)* [ORDER BY field [ASC|DESC]]``; anything else is a 400."""
    toks = _tokens(text)
    query = CqlQuery([], tz=tz)
    i = 0

    def expect_value() -> str:
        nonlocal i
        if i >= len(toks):
            raise WikiError(400, f"Could not parse cql : {text}")
        i += 1
        return _unquote(toks[i - 1])

    while i < len(toks):
        word = toks[i].lower()
        if word == "order" and i + 1 < len(toks) and toks[i + 1].lower() == "by":
            i += 2
            query.order_field = expect_value().lower()
            if i < len(toks) and toks[i].lower() in ("asc", "desc"):
                query.order_desc = toks[i].lower() == "desc"
                i += 1
            if i != len(toks):
                raise WikiError(400, f"Could not parse cql : {text}")
            break
        if word == "and" and query.clauses:
            i += 1
            continue
        name = word
        if name not in _FIELDS:
            raise WikiError(400, f"Could not parse cql : unsupported field '{toks[i]}'")
        i += 1
        if i >= len(toks):
            raise WikiError(400, f"Could not parse cql : {text}")
        op = toks[i].lower()
        i += 1
        if op == "not" and i < len(toks) and toks[i].lower() == "in":
            op, i = "not in", i + 1
        if op in ("in", "not in"):
            if i >= len(toks) or toks[i] != "(":
                raise WikiError(400, f"Could not parse cql : {text}")
            i += 1
            values: list[str] = []
            while i < len(toks) and toks[i] != ")":
                if toks[i] != ",":
                    values.append(_unquote(toks[i]))
                i += 1
            if i >= len(toks):
                raise WikiError(400, f"Could not parse cql : {text}")
            i += 1
            query.clauses.append(Clause(name, op, tuple(values)))
        elif op in ("=", "!=", ">=", "<=", ">", "<"):
            query.clauses.append(Clause(name, op, (expect_value(),)))
        else:
            raise WikiError(400, f"Could not parse cql : unsupported operator '{op}'")
    return query
