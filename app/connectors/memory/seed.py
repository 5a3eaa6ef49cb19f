"""Deterministic seed data for the in-memory tool: work items and calendar events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.models import CalendarEvent, StatusCategory, WorkItem

__all__ = ["seed_event", "seed_work_item"]

_VERBS = ("Add", "Fix", "Refactor", "Document", "Test", "Speed up", "Review")
_NOUNS = ("checkout form", "payment retry", "cart badge", "address lookup", "receipt email", "promo codes")
_STATUSES = (("To Do", StatusCategory.TODO), ("In Progress", StatusCategory.IN_PROGRESS),
             ("Done", StatusCategory.DONE))
_PEOPLE = ("amelie", "jonas", "priya", "tomas", "mei", "noah")
_MEETINGS = ("Stand-up", "Refinement", "Sprint review", "Retro", "1:1", "Design critique")


def seed_work_item(rng: random.Random, partition: str, number: int) -> WorkItem:
    status, category = rng.choice(_STATUSES)
    return WorkItem(
        key=f"{partition.upper()}-{number}",
        title=f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)}",
        status=status,
        status_category=category,
        priority=rng.choice(("Low", "Medium", "High")),
        assignee=rng.choice(_PEOPLE),
        story_points=float(rng.choice((1, 2, 3, 5, 8))),
        project=partition,
    )


def seed_event(rng: random.Random, partition: str, number: int) -> CalendarEvent:
    anchor = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    start = anchor + timedelta(days=rng.randrange(0, 28), hours=rng.randrange(0, 8))
    return CalendarEvent(
        calendar=partition,
        title=f"{rng.choice(_MEETINGS)} #{number}",
        start=start,
        end=start + timedelta(minutes=rng.choice((15, 30, 60))),
        organizer=rng.choice(_PEOPLE),
    )
