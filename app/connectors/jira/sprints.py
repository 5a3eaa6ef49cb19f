"""The cursor of a board's sprints: the version (content hash) of each sprint last emitted.

Sprints carry no ``updated`` time and a board has few of them, so a read lists them all
and emits the new, the changed, and (as tombstones) the ones that disappeared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from app.errors import CursorInvalidated

__all__ = ["SprintCursor"]


@dataclass
class SprintCursor:
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> SprintCursor:
        if text is None:
            return cls()
        try:
            data = json.loads(text)
            return cls({str(k): str(v) for k, v in data["versions"].items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CursorInvalidated(f"unreadable jira sprint cursor: {text[:80]!r}") from exc

    def dump(self) -> str:
        return json.dumps({"versions": self.versions}, separators=(",", ":"), sort_keys=True)

    def admit(self, sprint_id: str, version: str) -> bool:
        """True when the sprint is new or changed since the cursor; records it."""
        if self.versions.get(sprint_id) == version:
            return False
        self.versions[sprint_id] = version
        return True

    def gone(self, present: set[str]) -> list[str]:
        """Sprints the cursor knew that the board no longer lists; forgets them."""
        missing = sorted(set(self.versions) - present)
        for sprint_id in missing:
            del self.versions[sprint_id]
        return missing
