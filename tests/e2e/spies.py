"""Request parameters the simulators' request logs cannot show, recorded where the simulator reads them.

The request log keeps method, path and query string. Slack reads its arguments from POST
bodies and Graph its page size from the ``Prefer`` header, so these spies wrap the very
function the simulator calls and record what it was given, then let it answer as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from fastapi import Request

from app.sandbox.graph import routes_events
from app.sandbox.graph.odata import Preferences
from app.sandbox.slack.methods import METHODS, Args

__all__ = ["record_graph_page_sizes", "record_slack_limits"]


def record_slack_limits(monkeypatch: pytest.MonkeyPatch, methods: Iterable[str]) -> dict[str, list[str]]:
    """method -> the ``limit`` argument of each call (``""`` when the client sent none)."""
    seen: dict[str, list[str]] = {m: [] for m in methods}
    for method in seen:
        handler = METHODS[method]

        def spy(sim: Any, caller: Any, args: Args, _method: str = method, _handler: Any = handler) -> Any:
            seen[_method].append(args.text("limit"))
            return _handler(sim, caller, args)

        monkeypatch.setitem(METHODS, method, spy)
    return seen


def record_graph_page_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int | None]]:
    """(request path, the ``odata.maxpagesize`` the client preferred) of each event listing."""
    seen: list[tuple[str, int | None]] = []
    original = routes_events.preferences  # type: ignore[attr-defined]

    def spy(request: Request) -> Preferences:
        prefs = original(request)
        seen.append((request.url.path, prefs.max_page_size))
        return prefs

    monkeypatch.setattr(routes_events, "preferences", spy)
    return seen
