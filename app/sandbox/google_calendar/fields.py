"""Partial responses: the ``fields`` selector (``items(id,etag),nextPageToken``, ``a/b``)."""

from __future__ import annotations

from typing import Any

from app.sandbox.google_calendar.errors import GoogleApiError

__all__ = ["select_fields"]

Selection = dict[str, "Selection | None"]


def select_fields(data: Any, fields: str | None) -> Any:
    """``data`` reduced to the selected fields; ``None`` or empty selects everything."""
    if not fields:
        return data
    tree, rest = _parse(fields.replace(" ", ""), 0)
    if rest != len(fields.replace(" ", "")):
        raise _invalid(fields)
    return _apply(data, tree)


def _invalid(fields: str) -> GoogleApiError:
    return GoogleApiError(400, f"Invalid field selection {fields}", "invalidParameter", location="fields")


def _parse(text: str, pos: int) -> tuple[Selection, int]:
    tree: Selection = {}
    while pos < len(text) and text[pos] != ")":
        end = pos
        while end < len(text) and text[end] not in ",()":
            end += 1
        path = text[pos:end].split("/")
        if not all(path):
            raise _invalid(text)
        sub: Selection | None = None
        pos = end
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise _invalid(text)
            pos += 1
        node = tree
        for name in path[:-1]:
            child = node.get(name)
            if child is None:
                child = {}
                node[name] = child
            node = child
        node[path[-1]] = sub
        if pos < len(text) and text[pos] == ",":
            pos += 1
    return tree, pos


def _apply(data: Any, tree: Selection | None) -> Any:
    if tree is None:
        return data
    if isinstance(data, list):
        return [_apply(item, tree) for item in data]
    if not isinstance(data, dict):
        return data
    return {key: _apply(data[key], sub) for key, sub in tree.items() if key in data}
