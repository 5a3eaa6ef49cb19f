"""The seeded wiki: the team's CHK space (specs, meeting notes, a decision log) and a small TEAM space.

Everything derives from the :class:`TeamWorld` seed, so two simulators built from the same
world hold the same pages; bodies mention Jira keys ``CHK-n`` that exist in the Jira sandbox.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from app.sandbox.confluence.model import Page, Space
from app.sandbox.confluence.wiki import Wiki
from app.sandbox.world import TeamWorld

__all__ = ["BOT_ACCOUNT_ID", "seed_wiki"]

BOT_ACCOUNT_ID = "557058:passerelle-bot"
"""The account the hub's API token belongs to."""

_SPEC_TOPICS = [
    "Payment form",
    "Address validation",
    "Order summary",
    "Promo codes",
    "Guest checkout",
    "3-D Secure challenge",
    "Saved cards",
    "Shipping options",
    "Tax display",
    "Receipt email",
]
_KINDS = ["spec", "daily", "refinement", "daily", "review", "daily", "spec", "refinement"]


def _jira_macro(key: str) -> str:
    return (
        f'<ac:structured-macro ac:name="jira" ac:schema-version="1"><ac:parameter ac:name="key">{key}'
        f"</ac:parameter></ac:structured-macro>"
    )


class _Seeder:
    def __init__(self, world: TeamWorld, wiki: Wiki) -> None:
        self.world = world
        self.wiki = wiki
        self.rng: random.Random = world.rng("confluence")
        self.people = [m.jira_account_id for m in world.members]
        self.last_day = world.anchor - timedelta(days=1)

    def key(self) -> str:
        return f"{self.world.project_key}-{self.rng.randint(1, self.world.issue_count)}"

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return self.world.local(day, time(hour, minute)).astimezone(UTC)

    def page(
        self,
        space: Space,
        title: str,
        body: str,
        when: datetime,
        author: str,
        parent: Page | None,
        labels: list[str],
        edits: int = 0,
    ) -> Page:
        page = self.wiki.create_page(
            space.id, title, body, author, parent.id if parent else None, created_at=when, labels=labels
        )
        moment = when
        for n in range(edits):
            moment = moment + timedelta(hours=self.rng.randint(1, 30), minutes=self.rng.randint(0, 59))
            moment = min(moment, self.at(self.last_day, 18, n))
            editor = self.rng.choice(self.people)
            self.wiki.update_page(
                page.id,
                version_number=page.version.number + 1,
                author_id=editor,
                body=body + f"<p>Update {n + 1}: follow-up on {self.key()}.</p>",
                message=f"edit {n + 1}",
                at=moment,
            )
        return page


def seed_wiki(world: TeamWorld, wiki: Wiki) -> None:
    """Fill ``wiki`` with ``world.page_count`` pages in CHK plus the TEAM space."""
    s = _Seeder(world, wiki)
    po, dev1, qa = world.member("po"), world.member("dev1"), world.member("qa")
    start = s.last_day - timedelta(days=60)
    chk = wiki.add_space(
        Space(
            "65537",
            world.space_key,
            world.project_name,
            po.jira_account_id,
            s.at(start, 9),
            description="Specs, meeting notes and decisions of the squad.",
        )
    )
    home = s.page(
        chk,
        world.project_name,
        f"<h1>{world.project_name}</h1><p>Welcome to the squad space. "
        f"Epic: {_jira_macro(world.project_key + '-1')}</p>",
        s.at(start, 9, 5),
        po.jira_account_id,
        None,
        ["home"],
    )
    specs = s.page(
        chk,
        "Specifications",
        "<p>One page per feature.</p>",
        s.at(start, 10),
        po.jira_account_id,
        home,
        ["spec"],
    )
    notes = s.page(
        chk,
        "Meeting notes",
        "<p>Daily stand-ups at 9:15, refinement at noon, sprint reviews.</p>",
        s.at(start, 10, 30),
        po.jira_account_id,
        home,
        ["meeting-notes"],
    )
    decisions = [
        f"<tr><td>{i + 1}</td><td>Decided scope of {s.key()}</td><td>accepted</td></tr>" for i in range(4)
    ]
    s.page(
        chk,
        "Decision log",
        "<table><tbody><tr><th>#</th><th>Decision</th><th>Status</th></tr>"
        + "".join(decisions)
        + "</tbody></table>",
        s.at(start, 11),
        dev1.jira_account_id,
        home,
        ["decisions"],
        edits=2,
    )
    for i in range(max(0, world.page_count - 4)):
        kind = _KINDS[i % len(_KINDS)]
        day = start + timedelta(days=1 + (i * 59) // max(1, world.page_count - 4))
        author = s.rng.choice(s.people)
        keys = [s.key() for _ in range(3)]
        if kind == "spec":
            topic = _SPEC_TOPICS[i % len(_SPEC_TOPICS)]
            suffix = f" ({i // len(_SPEC_TOPICS) + 1})" if i >= len(_SPEC_TOPICS) else ""
            body = (
                f"<h2>Goal</h2><p>{topic} for the new checkout.</p><h2>Stories</h2><ul>"
                + "".join(f"<li>{_jira_macro(k)}</li>" for k in keys)
                + "</ul>"
            )
            s.page(
                chk,
                f"Spec: {topic}{suffix}",
                body,
                s.at(day, 14),
                author,
                specs,
                ["spec", "checkout"],
                edits=s.rng.randint(0, 3),
            )
        elif kind == "daily":
            body = (
                f"<h2>Stand-up {day.isoformat()} 9:15</h2><ul><li>Yesterday: {keys[0]}</li>"
                f"<li>Today: {keys[1]}</li><li>Blocked: {keys[2]}</li></ul>"
            )
            s.page(
                chk,
                f"Daily stand-up {day.isoformat()} #{i + 1}",
                body,
                s.at(day, 9, 30),
                author,
                notes,
                ["meeting-notes", "daily"],
            )
        elif kind == "refinement":
            body = (
                "<h2>Refinement (noon)</h2><table><tbody>"
                + "".join(
                    f"<tr><td>{k}</td><td>{s.rng.choice([1, 2, 3, 5, 8])} points</td></tr>" for k in keys
                )
                + "</tbody></table>"
            )
            s.page(
                chk,
                f"Backlog refinement {day.isoformat()} #{i + 1}",
                body,
                s.at(day, 12, 45),
                author,
                notes,
                ["meeting-notes", "refinement"],
                edits=1,
            )
        else:
            body = (
                f"<h2>Sprint review</h2><p>Demoed {keys[0]} and {keys[1]}; {keys[2]} moves to the next "
                f"sprint.</p>"
            )
            s.page(
                chk,
                f"Sprint review {day.isoformat()} #{i + 1}",
                body,
                s.at(day, 16),
                qa.jira_account_id,
                notes,
                ["meeting-notes", "review"],
                edits=1,
            )
    team = wiki.add_space(
        Space(
            "65538",
            "TEAM",
            "Team handbook",
            po.jira_account_id,
            s.at(start, 8),
            description="How the team works.",
        )
    )
    team_home = s.page(
        team, "Team handbook", "<p>Working agreements.</p>", s.at(start, 8, 5), po.jira_account_id, None, []
    )
    s.page(
        team,
        "On-call rota",
        "<p>Rota for production support.</p>",
        s.at(start, 8, 30),
        dev1.jira_account_id,
        team_home,
        ["ops"],
    )
