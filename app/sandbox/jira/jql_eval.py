"""Evaluate parsed JQL against the store, and plan which index a query can page on.

Date values follow Jira Cloud: a number is epoch milliseconds; a string
(``yyyy/MM/dd HH:mm``, ``yyyy-MM-dd HH:mm``, ``yyyy/MM/dd``, ``yyyy-MM-dd``) is read in
the caller's profile time zone at minute precision, so seconds are lost; a relative
value (``-5m``, ``-2h``, ``-1d``, ``-1w``) counts back from now.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.sandbox.jira.jql_parse import And, Clause, Func, JqlError, Node, Not, Or, OrderTerm, Query, Value
from app.sandbox.jira.model import (
    FLAGGED_FIELD,
    PRIORITIES,
    SPRINT_FIELD,
    STATUSES,
    STORY_POINTS_FIELD,
    Issue,
)
from app.sandbox.jira.store import JiraStore, now_ms

__all__ = ["Plan", "Predicate", "compile_query", "parse_date", "sort_key"]

Predicate = Callable[[Issue], bool]

_DATE_FIELDS = {
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "resolved": "resolved",
    "resolutiondate": "resolved",
}
_KEY_FIELDS = {"key", "id", "issue", "issuekey"}
_SPRINT_NAMES = {"sprint", "cf[10020]", SPRINT_FIELD}
_POINTS_NAMES = {"story point estimate", "cf[10016]", STORY_POINTS_FIELD}
_FLAGGED_NAMES = {"flagged", "cf[10021]", FLAGGED_FIELD}
_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_RELATIVE = re.compile(r"^([-+]?)(\d+)([wdhm])$")
_UNIT_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}


def parse_date(value: Value, tz: ZoneInfo, field: str) -> int:
    """Epoch milliseconds of a JQL date value."""
    if isinstance(value, Func):
        if value.name == "now":
            return now_ms()
        raise JqlError(f"Unable to find JQL function '{value.name}()'.")
    text = value.strip()
    if re.fullmatch(r"-?\d{6,}", text):
        return int(text)
    rel = _RELATIVE.match(text)
    if rel:
        amount = int(rel.group(2)) * _UNIT_MS[rel.group(3)]
        return now_ms() + (amount if rel.group(1) == "+" else -amount)
    for fmt in _FORMATS:
        try:
            local = datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
        return int(local.timestamp() * 1000)
    raise JqlError(
        f"Date value '{text}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
        "e.g. '-5d', '4w 2d'."
    )


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


@dataclass(frozen=True)
class Plan:
    """How to page a query: which index to scan, and a lower bound on ``updated`` if any."""

    predicate: Predicate
    order: tuple[OrderTerm, ...]
    index: str  # "updated" | "id" | "sort"
    descending: bool
    lower_updated_ms: int | None


class _Compiler:
    def __init__(self, store: JiraStore, tz: ZoneInfo, current_user: str) -> None:
        self.store = store
        self.tz = tz
        self.me = current_user

    def node(self, node: Node) -> Predicate:
        if isinstance(node, And):
            parts = [self.node(p) for p in node.parts]
            return lambda issue: all(p(issue) for p in parts)
        if isinstance(node, Or):
            parts = [self.node(p) for p in node.parts]
            return lambda issue: any(p(issue) for p in parts)
        if isinstance(node, Not):
            inner = self.node(node.part)
            return lambda issue: not inner(issue)
        return self.clause(node)

    def clause(self, c: Clause) -> Predicate:
        name = c.field
        if name in _DATE_FIELDS:
            return self._date(c, _DATE_FIELDS[name])
        if name in _KEY_FIELDS:
            return self._ids(c)
        getter = self._getter(name)
        if c.op in ("is", "is not"):
            want_empty = c.op == "is"
            return lambda issue: (getter(issue) in (None, [], "")) == want_empty
        values = [self._literal(name, v) for v in c.values]
        if c.op in ("~", "!~"):
            needle = str(values[0]).lower()
            positive = c.op == "~"
            return lambda issue: (needle in str(getter(issue) or "").lower()) == positive
        if c.op in ("in", "not in", "=", "!="):
            wanted = set()
            for v in values:
                wanted.update(v if isinstance(v, set) else {v})
            positive = c.op in ("in", "=")

            def member(issue: Issue) -> bool:
                got = getter(issue)
                hit = bool(wanted & set(got)) if isinstance(got, list) else got in wanted
                return hit == positive

            return member
        compare = _CMP[c.op]
        bound = values[0]
        return lambda issue: (got := getter(issue)) is not None and compare(got, bound)

    # --- field access ----------------------------------------------------------------------
    def _getter(self, name: str) -> Callable[[Issue], Any]:
        if name == "project":
            return lambda i: i.project_key.lower()
        if name in ("status", "priority", "issuetype", "type"):
            fid = "issuetype" if name == "type" else name
            return lambda i: str(i.fields.get(fid) or "").lower() or None
        if name == "statuscategory":
            return lambda i: STATUSES[i.fields["status"]].category_key
        if name in ("assignee", "reporter"):
            return lambda i: i.fields.get(name)
        if name == "labels":
            return lambda i: [label.lower() for label in i.fields.get("labels", [])]
        if name in _SPRINT_NAMES:
            return lambda i: list(i.fields.get(SPRINT_FIELD, []))
        if name == "parent":
            return lambda i: i.fields.get("parent")
        if name in _POINTS_NAMES:
            return lambda i: i.fields.get(STORY_POINTS_FIELD)
        if name in _FLAGGED_NAMES:
            return lambda i: "impediment" if i.fields.get(FLAGGED_FIELD) else None
        if name in ("summary", "description"):
            return lambda i: i.fields.get(name)
        if name == "text":
            return lambda i: f"{i.fields.get('summary', '')} {i.fields.get('description', '')}"
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")

    def _literal(self, name: str, value: Value) -> Any:
        if isinstance(value, Func):
            if value.name == "currentuser":
                return self.me
            if name in _SPRINT_NAMES and value.name in ("opensprints", "closedsprints", "futuresprints"):
                state = {
                    "opensprints": ("active", "future"),
                    "closedsprints": ("closed",),
                    "futuresprints": ("future",),
                }[value.name]
                return {s.id for s in self.store.sprints.values() if s.state in state}
            raise JqlError(f"Unable to find JQL function '{value.name}()'.")
        if name in _SPRINT_NAMES:
            if value.isdigit():
                return int(value)
            return {s.id for s in self.store.sprints.values() if s.name.lower() == value.lower()}
        if name == "parent":
            parent = self.store.find(value)
            return parent.id if parent else -1
        if name in _POINTS_NAMES:
            try:
                return float(value)
            except ValueError as exc:
                raise JqlError(f"'{value}' is not a valid number for field '{name}'.") from exc
        if name == "priority" and value in PRIORITIES.values():
            return next(k for k, v in PRIORITIES.items() if v == value).lower()
        if name in ("assignee", "reporter"):
            return value
        if name == "status" and value.isdigit():
            return next((s.name.lower() for s in STATUSES.values() if s.id == value), value)
        if name == "statuscategory":
            aliases = {"to do": "new", "in progress": "indeterminate", "done": "done"}
            return aliases.get(value.lower(), value.lower())
        return value.lower()

    def _date(self, c: Clause, which: str) -> Predicate:
        def stamp(issue: Issue) -> int | None:
            if which == "updated":
                return issue.updated_ms
            if which == "created":
                return issue.created_ms
            return issue.resolution_ms

        if c.op in ("is", "is not"):
            want_empty = c.op == "is"
            return lambda issue: (stamp(issue) is None) == want_empty
        if c.op not in _CMP and c.op not in ("in", "not in"):
            raise JqlError(f"The operator '{c.op}' is not supported by the '{c.field}' field.")
        values = [parse_date(v, self.tz, c.field) for v in c.values]
        if c.op in ("in", "not in"):
            wanted = set(values)
            positive = c.op == "in"
            return lambda issue: (stamp(issue) in wanted) == positive
        compare = _CMP[c.op]
        bound = values[0]
        return lambda issue: (got := stamp(issue)) is not None and compare(got, bound)

    def _ids(self, c: Clause) -> Predicate:
        if c.op not in ("=", "!=", "in", "not in"):
            # Jira also allows key ranges (key > X-10); they are not part of this subset.
            raise JqlError(f"The operator '{c.op}' is not supported by the sandbox for field '{c.field}'.")
        wanted: set[int] = set()
        for value in c.values:
            if isinstance(value, Func):
                raise JqlError(f"Unable to find JQL function '{value.name}()'.")
            issue = self.store.find(value)
            if issue is None:
                if not value.isdigit():
                    raise JqlError(f"An issue with key '{value}' does not exist for field '{c.field}'.")
                continue
            wanted.add(issue.id)
        positive = c.op in ("=", "in")
        return lambda issue: (issue.id in wanted) == positive


def _lower_updated(node: Node | None, tz: ZoneInfo) -> int | None:
    """A lower bound on ``updated`` implied by a top-level conjunct, for a range scan."""
    if node is None:
        return None
    conjuncts = node.parts if isinstance(node, And) else (node,)
    bounds = []
    for part in conjuncts:
        if isinstance(part, Clause) and _DATE_FIELDS.get(part.field) == "updated" and part.op in (">=", ">"):
            ms = parse_date(part.values[0], tz, part.field)
            bounds.append(ms + 1 if part.op == ">" else ms)
    return max(bounds) if bounds else None


def compile_query(query: Query, store: JiraStore, tz: ZoneInfo, current_user: str) -> Plan:
    predicate = _Compiler(store, tz, current_user).node(query.where) if query.where else (lambda issue: True)
    order = query.order
    first = order[0] if order else OrderTerm("id")
    rest = order[1:]
    tie_ok = all(t.field in ("id", "key", "created") and t.descending == first.descending for t in rest)
    for term in order:
        if term.field not in _ORDERABLE:
            raise JqlError(f"Field '{term.field}' does not exist or you do not have permission to view it.")
    if first.field in ("updated", "updateddate") and tie_ok and all(t.field == "id" for t in rest):
        index = "updated"
    elif first.field in ("id", "created", "createddate") and not rest:
        index = "id"
    else:
        index = "sort"
    return Plan(predicate, order, index, first.descending, _lower_updated(query.where, tz))


def sort_key(issue: Issue, field: str) -> Any:
    if field in ("updated", "updateddate"):
        return issue.updated_ms
    if field in ("created", "createddate", "id"):
        return issue.id
    if field in ("key", "issuekey"):
        return (issue.project_key, issue.number)
    if field == "priority":
        return PRIORITIES.get(issue.fields.get("priority") or "", "9")
    if field in ("status", "summary", "issuetype", "assignee", "reporter", "duedate"):
        return str(issue.fields.get(field) or "")
    if field in ("rank", "cf[10019]"):
        return issue.id
    return issue.id


_ORDERABLE = {
    "updated",
    "updateddate",
    "created",
    "createddate",
    "id",
    "key",
    "issuekey",
    "priority",
    "status",
    "summary",
    "issuetype",
    "assignee",
    "reporter",
    "duedate",
    "rank",
    "cf[10019]",
}
