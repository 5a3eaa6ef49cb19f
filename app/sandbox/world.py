"""The product team every simulator is seeded with: deterministic from a seed number.

Each simulator builds its own data from this shared cast, so that a Slack thread
mentions Jira keys that exist and a calendar invites the people who are in Jira.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Member", "TeamWorld"]


@dataclass(frozen=True)
class Member:
    key: str          # stable short handle, e.g. "po"
    name: str
    email: str
    role: str         # product owner | developer | qa | designer
    jira_account_id: str
    slack_user_id: str


_CAST = [
    ("po", "Amélie Laurent", "product owner"),
    ("dev1", "Jonas Becker", "developer"),
    ("dev2", "Priya Raman", "developer"),
    ("dev3", "Tomás Ortega", "developer"),
    ("qa", "Mei Chen", "qa"),
    ("design", "Noah Williams", "designer"),
]


@dataclass
class TeamWorld:
    """The shared facts of the seeded world.

    ``scale`` multiplies the bulk data (issues, messages, pages, events) for benchmarks;
    the named cast, sprints and recurring meetings stay the same.
    """

    seed: int = 1
    scale: int = 1
    anchor: date = field(default_factory=lambda: datetime.now(UTC).date())
    domain: str = "orbit.example"
    project_key: str = "CHK"
    project_name: str = "Checkout Revamp"
    space_key: str = "CHK"
    timezone: str = "Europe/Paris"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def members(self) -> list[Member]:
        out = []
        for i, (key, name, role) in enumerate(_CAST):
            first = name.split()[0].lower().replace("é", "e").replace("á", "a")
            out.append(
                Member(
                    key=key,
                    name=name,
                    email=f"{first}@{self.domain}",
                    role=role,
                    jira_account_id=f"5f{self.seed:04x}{i:018x}",
                    slack_user_id=f"U0{self.seed:03d}{i:05d}",
                )
            )
        return out

    def member(self, key: str) -> Member:
        return next(m for m in self.members if m.key == key)

    def rng(self, namespace: str) -> random.Random:
        """A random generator private to one simulator, reproducible from the seed."""
        return random.Random(f"{self.seed}:{namespace}")

    # --- bulk sizes -------------------------------------------------------------------------
    @property
    def issue_count(self) -> int:
        """Jira issues are keyed ``CHK-1`` .. ``CHK-<issue_count>``."""
        return 40 * self.scale

    @property
    def message_count(self) -> int:
        return 80 * self.scale

    @property
    def page_count(self) -> int:
        return 12 * self.scale

    # --- sprints ----------------------------------------------------------------------------
    sprint_days: int = 14

    @property
    def active_sprint_start(self) -> date:
        """Sprints start on Mondays; the active sprint contains ``anchor``."""
        monday = self.anchor - timedelta(days=self.anchor.weekday())
        # Sprints are counted from a fixed epoch Monday so the number is stable for a given anchor.
        epoch = date(2024, 1, 1)
        weeks = (monday - epoch).days // 7
        return monday - timedelta(weeks=weeks % 2)

    @property
    def active_sprint_number(self) -> int:
        return ((self.active_sprint_start - date(2024, 1, 1)).days // self.sprint_days) % 100 + 1

    def local(self, day: date, at: time) -> datetime:
        """A timezone-aware datetime in the team's time zone."""
        return datetime.combine(day, at, tzinfo=self.tz)
