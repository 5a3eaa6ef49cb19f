"""The seeded Jira world: project CHK, a scrum board with closed, active and future sprints,
epics, stories with acceptance criteria, bugs, and a flagged integration task.

Deterministic for a world seed (and its anchor date). Issues ``CHK-1 .. CHK-<issue_count>``
get ids from 10001 upward, created in id order so that id order is created order.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from app.sandbox.jira.model import (
    FLAGGED_FIELD,
    SPRINT_FIELD,
    STORY_POINTS_FIELD,
    Board,
    Issue,
    Project,
    SprintState,
)
from app.sandbox.jira.store import JiraStore
from app.sandbox.world import TeamWorld

__all__ = ["seed_store"]

_EPICS = ["Payment methods", "Checkout UX", "Order confirmation", "Platform integration"]
_STORY_TOPICS = [
    ("pay with a saved card", "the saved card is preselected", "the CVC is asked again"),
    ("see shipping costs before paying", "costs update when the address changes", "free shipping shows as 0"),
    ("apply a promo code", "an invalid code shows an error", "the discount shows in the summary"),
    ("check out as a guest", "no account is created", "the confirmation email arrives"),
    ("pay with PayPal", "the PayPal window opens", "a cancelled payment returns to the cart"),
    ("get an order confirmation page", "the order number is shown", "the page can be printed"),
    ("edit the cart during checkout", "quantities can change", "the total updates at once"),
    ("choose a delivery slot", "full slots are greyed out", "the slot shows in the confirmation"),
]
_BUGS = [
    "Total rounds wrongly with two promo codes",
    "Checkout button stays disabled after address fix",
    "Confirmation email shows the wrong currency",
    "Card form loses focus on Safari",
    "Shipping estimate missing for Corsica",
]
_LABELS = ["checkout", "payments", "ux", "backend", "frontend", "tech-debt", "a11y"]
_PRIORITIES = ["Highest", "High", "Medium", "Medium", "Medium", "Low", "Lowest"]
_POINTS = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0]
_DAY_MS = 86_400_000


def _sprints(world: TeamWorld, board_id: int) -> list[SprintState]:
    start = world.active_sprint_start
    number = world.active_sprint_number
    out = []
    for offset, state in ((-2, "closed"), (-1, "closed"), (0, "active"), (1, "future"), (2, "future")):
        begin = world.local(start + timedelta(days=offset * world.sprint_days), time(9, 0))
        end = begin + timedelta(days=world.sprint_days - 3, hours=8)
        created = begin - timedelta(days=3)
        sprint = SprintState(
            id=offset + 3,
            name=f"CHK Sprint {number + offset}",
            state=state,
            board_id=board_id,
            goal=f"Sprint {number + offset}: ship {_EPICS[(number + offset) % len(_EPICS)].lower()}",
            created_ms=int(created.timestamp() * 1000),
        )
        if state != "future":
            sprint.start_ms = int(begin.timestamp() * 1000)
            sprint.end_ms = int(end.timestamp() * 1000)
        if state == "closed":
            sprint.complete_ms = sprint.end_ms
        out.append(sprint)
    return out


def _story(world: TeamWorld, n: int, rng: Any) -> dict[str, Any]:
    topic, crit1, crit2 = _STORY_TOPICS[n % len(_STORY_TOPICS)]
    suffix = "" if n < len(_STORY_TOPICS) else f" ({n // len(_STORY_TOPICS) + 1})"
    description = (
        f"As a shopper I want to {topic} so that checkout is quicker.\n\n"
        f"Acceptance criteria:\n- {crit1}\n- {crit2}"
    )
    return {
        "summary": f"Shopper can {topic}{suffix}",
        "description": description,
        "issuetype": "Story",
        STORY_POINTS_FIELD: rng.choice(_POINTS),
    }


def seed_store(world: TeamWorld, store: JiraStore) -> None:
    """Fill ``store`` with the world's Jira data."""
    rng = world.rng("jira")
    members = world.members
    po = world.member("po").jira_account_id
    devs = [m.jira_account_id for m in members if m.role == "developer"]
    qa = world.member("qa").jira_account_id
    store.projects[world.project_key] = Project("10000", world.project_key, world.project_name, po)
    board = Board(1, f"{world.project_key} board", "scrum", world.project_key)
    store.boards[board.id] = board
    sprints = _sprints(world, board.id)
    store.sprints = {s.id: s for s in sprints}
    closed = [s.id for s in sprints if s.state == "closed"]
    active = next(s.id for s in sprints if s.state == "active")
    future = [s.id for s in sprints if s.state == "future"]

    count = world.issue_count
    # Times count back from midnight of the anchor day, so the data is the same for (seed, anchor).
    now = int(world.local(world.anchor, time(0, 0)).timestamp() * 1000)
    # Created times spread over the 90 days before now, in id order; the last tenth of the
    # issues was touched in the last days, and some share one `updated` millisecond (bulk edits).
    span = 90 * _DAY_MS
    first_created = now - span - _DAY_MS
    step = max(1, span // max(count, 1))
    epic_ids = list(range(10001, 10001 + min(len(_EPICS), count)))
    issues: list[Issue] = []
    story_n = bug_n = 0
    previous_updated = 0
    for n in range(1, count + 1):
        issue_id = 10000 + n
        created = first_created + (n - 1) * step + rng.randrange(0, max(1, step // 2))
        fields: dict[str, Any] = {
            "reporter": po,
            "labels": [],
            "priority": rng.choice(_PRIORITIES),
            SPRINT_FIELD: [],
            FLAGGED_FIELD: False,
            STORY_POINTS_FIELD: None,
            "duedate": None,
            "parent": None,
        }
        if n <= len(epic_ids):
            fields.update(
                {
                    "summary": _EPICS[n - 1],
                    "issuetype": "Epic",
                    "description": f"Everything about {_EPICS[n - 1].lower()} for the checkout revamp.",
                    "assignee": po,
                    "status": "In Progress",
                    "labels": ["checkout"],
                }
            )
        elif n == len(epic_ids) + 1:
            fields.update(
                {
                    "summary": "Integrate the payment provider's sandbox API",
                    "issuetype": "Task",
                    "description": "Blocked: the provider has not issued sandbox credentials yet.",
                    "assignee": devs[0],
                    "status": "In Progress",
                    "labels": ["integration", "blocked"],
                    FLAGGED_FIELD: True,
                    SPRINT_FIELD: [active],
                    "parent": epic_ids[-1],
                    STORY_POINTS_FIELD: 5.0,
                    "priority": "High",
                }
            )
        else:
            if rng.random() < 0.22:
                bug_n += 1
                title = _BUGS[bug_n % len(_BUGS)]
                if bug_n > len(_BUGS):
                    title += f" ({bug_n // len(_BUGS) + 1})"
                fields.update(
                    {
                        "summary": title,
                        "issuetype": "Bug",
                        "reporter": qa,
                        "description": "Steps to reproduce:\n1. Open checkout\n2. Observe the defect",
                    }
                )
            else:
                story_n += 1
                fields.update(_story(world, story_n, rng))
            fields["assignee"] = rng.choice([*devs, None])
            fields["labels"] = sorted(rng.sample(_LABELS, rng.randrange(0, 3)))
            if epic_ids:
                fields["parent"] = rng.choice(epic_ids)
            place = n / count
            if place < 0.45:
                fields[SPRINT_FIELD] = [rng.choice(closed)]
                fields["status"] = "Done"
            elif place < 0.7:
                fields[SPRINT_FIELD] = [active]
                fields["status"] = rng.choice(["To Do", "In Progress", "In Review", "Done"])
            elif place < 0.8:
                fields[SPRINT_FIELD] = [rng.choice(future)]
                fields["status"] = "To Do"
            else:
                fields["status"] = "To Do"
            if rng.random() < 0.1:
                fields["duedate"] = (world.anchor + timedelta(days=rng.randrange(1, 30))).isoformat()
        recent = n > count * 0.9
        updated = (
            now - rng.randrange(_DAY_MS, 3 * _DAY_MS) if recent else created + rng.randrange(0, 5 * _DAY_MS)
        )
        updated = min(max(updated, created), now - 60_000)
        if n % 7 == 0 and previous_updated and previous_updated >= created:
            updated = previous_updated  # a bulk edit: two issues share one updated millisecond
        previous_updated = updated
        issue = Issue(issue_id, f"{world.project_key}-{n}", world.project_key, created, updated, fields)
        if fields["status"] == "Done":
            issue.resolution_ms = updated
        issues.append(issue)
    for issue in issues[:40]:
        if issue.fields["issuetype"] in ("Story", "Bug") and rng.random() < 0.4:
            author = rng.choice([qa, *devs])
            comment = store.new_comment(author, "Checked on staging: works as described.", issue.updated_ms)
            issue.comments.append(comment)
    store.load(issues)
    store.projects[world.project_key].next_number = count + 1
