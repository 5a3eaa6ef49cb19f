"""The simulator's issue store, indexed so that listing costs O(log n + page), not O(world).

Two sorted indexes serve keyset paging: ``by_updated`` holds ``(updated_ms, id)`` for the
incremental query, ``ids`` holds issue ids (ids grow with creation time, so id order is
also created order).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator
from typing import Any

from app.sandbox.jira.model import Board, Comment, Issue, Project, SprintState, Webhook

__all__ = ["JiraStore", "now_ms"]


def now_ms() -> int:
    return int(time.time() * 1000)


class JiraStore:
    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.issues: dict[int, Issue] = {}
        self.keys: dict[str, int] = {}
        self.by_updated: list[tuple[int, int]] = []
        self.ids: list[int] = []
        self.boards: dict[int, Board] = {}
        self.sprints: dict[int, SprintState] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.next_issue_id = 10001
        self.next_comment_id = 10001
        self.next_webhook_id = 1
        self.next_history_id = 10001
        self.last_ms = 0

    # --- time ------------------------------------------------------------------------------
    def tick(self, at_least: int = 0) -> int:
        """A timestamp strictly after every timestamp handed out before: versions never repeat."""
        stamp = max(now_ms(), self.last_ms + 1, at_least)
        self.last_ms = stamp
        return stamp

    # --- lookup ----------------------------------------------------------------------------
    def find(self, id_or_key: str) -> Issue | None:
        if id_or_key.isdigit():
            return self.issues.get(int(id_or_key))
        issue_id = self.keys.get(id_or_key.upper())
        return self.issues.get(issue_id) if issue_id is not None else None

    def project(self, id_or_key: str) -> Project | None:
        if id_or_key in self.projects:
            return self.projects[id_or_key]
        return next((p for p in self.projects.values() if p.id == id_or_key), None)

    # --- bulk load (seeding) -----------------------------------------------------------------
    def load(self, issues: list[Issue]) -> None:
        """Replace every issue at once; faster than ``add`` one by one for 100k issues."""
        self.issues = {i.id: i for i in issues}
        self.keys = {i.key: i.id for i in issues}
        self.ids = sorted(self.issues)
        self.by_updated = sorted((i.updated_ms, i.id) for i in issues)
        if issues:
            self.next_issue_id = max(self.ids) + 1
            self.last_ms = max(self.last_ms, self.by_updated[-1][0])

    # --- mutation --------------------------------------------------------------------------
    def add(self, issue: Issue) -> None:
        self.issues[issue.id] = issue
        self.keys[issue.key] = issue.id
        bisect.insort(self.ids, issue.id)
        bisect.insort(self.by_updated, (issue.updated_ms, issue.id))
        self.next_issue_id = max(self.next_issue_id, issue.id + 1)

    def touch(self, issue: Issue, at_ms: int | None = None) -> int:
        """Move ``issue`` to a new ``updated`` time and keep the index sorted."""
        stamp = at_ms if at_ms is not None else self.tick()
        self._unindex_updated(issue)
        issue.updated_ms = stamp
        bisect.insort(self.by_updated, (stamp, issue.id))
        return stamp

    def remove(self, issue: Issue) -> None:
        self._unindex_updated(issue)
        pos = bisect.bisect_left(self.ids, issue.id)
        if pos < len(self.ids) and self.ids[pos] == issue.id:
            del self.ids[pos]
        self.keys.pop(issue.key, None)
        del self.issues[issue.id]

    def rekey(self, issue: Issue, new_key: str, project_key: str) -> None:
        """A move: the id stays, the key changes; the old key keeps resolving, as in Jira."""
        issue.key = new_key
        issue.project_key = project_key
        self.keys[new_key] = issue.id

    def new_comment(self, author: str, body: str, at_ms: int) -> Comment:
        comment = Comment(str(self.next_comment_id), author, body, at_ms, at_ms)
        self.next_comment_id += 1
        return comment

    def record_history(self, issue: Issue, author: str, at_ms: int, items: list[dict[str, Any]]) -> None:
        if items:
            issue.changelog.append(
                {"id": str(self.next_history_id), "author": author, "created_ms": at_ms, "items": items}
            )
            self.next_history_id += 1

    def _unindex_updated(self, issue: Issue) -> None:
        entry = (issue.updated_ms, issue.id)
        pos = bisect.bisect_left(self.by_updated, entry)
        if pos < len(self.by_updated) and self.by_updated[pos] == entry:
            del self.by_updated[pos]

    # --- ordered scans ---------------------------------------------------------------------
    def scan_updated(
        self, after: tuple[int, int] | None, lower_ms: int | None, descending: bool = False
    ) -> Iterator[Issue]:
        """Issues in (updated, id) order, starting after the keyset position ``after``."""
        index = self.by_updated
        if not descending:
            start = 0
            if lower_ms is not None:
                start = bisect.bisect_left(index, (lower_ms, -1))
            if after is not None:
                start = max(start, bisect.bisect_right(index, after))
            for pos in range(start, len(index)):
                yield self.issues[index[pos][1]]
        else:
            end = len(index)
            if after is not None:
                end = bisect.bisect_left(index, after)
            for pos in range(end - 1, -1, -1):
                if lower_ms is not None and index[pos][0] < lower_ms:
                    return
                yield self.issues[index[pos][1]]

    def scan_ids(self, after: int | None, descending: bool = False) -> Iterator[Issue]:
        index = self.ids
        if not descending:
            start = bisect.bisect_right(index, after) if after is not None else 0
            for pos in range(start, len(index)):
                yield self.issues[index[pos]]
        else:
            end = bisect.bisect_left(index, after) if after is not None else len(index)
            for pos in range(end - 1, -1, -1):
                yield self.issues[index[pos]]
