"""Work tracking: WorkItem (Jira issue, later Trello card / Notion task) and Sprint."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime

from app.models._base import Body


class StatusCategory(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class WorkItem(Body):
    kind: Literal["work_item"] = "work_item"
    key: str
    title: str
    description: str = ""
    type: str = "Task"
    status: str = ""
    status_category: StatusCategory = StatusCategory.TODO
    priority: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    sprint: str | None = None
    parent: str | None = None
    labels: tuple[str, ...] = ()
    due_date: date | None = None
    story_points: float | None = None
    flagged: bool = False
    project: str | None = None


class SprintState(StrEnum):
    FUTURE = "future"
    ACTIVE = "active"
    CLOSED = "closed"


class Sprint(Body):
    kind: Literal["sprint"] = "sprint"
    name: str
    state: SprintState = SprintState.FUTURE
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    goal: str = ""
    board: str | None = None
