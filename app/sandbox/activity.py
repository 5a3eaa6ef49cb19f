"""Background "team activity": every few seconds someone in the team changes something.

Each step picks one simulator and one realistic action (edit an issue, move it on the
board, comment, edit a page, post in a channel, move or rename a meeting) through the
simulator's own mutation methods, so webhooks and change feeds fire as they would.
Actions are looked up by name and skipped when a simulator lacks them; a failing action
is logged and the loop goes on.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog

__all__ = ["TeamActivity"]

log = structlog.get_logger(__name__)

_SUBJECTS = [
    "Payment retries",
    "Checkout copy tweaks",
    "Address form validation",
    "Apple Pay button",
    "Order summary layout",
    "3-D Secure fallback",
]
_MESSAGES = [
    "Pushed a fix for {key}, review welcome",
    "{key} is blocked on the payment sandbox",
    "Moving {key} to review",
    "Can someone pair on {key} after the stand-up?",
    "Release notes for {key} are in the wiki",
]
_STATUSES = ["To Do", "In Progress", "In Review", "Done"]

Action = Callable[[random.Random], str]


class TeamActivity:
    def __init__(self, simulators: dict[str, Any], interval_s: float = 5.0, seed: int = 1) -> None:
        self.simulators = simulators
        self.interval_s = interval_s
        self.rng = random.Random(f"{seed}:activity")
        self.done: deque[dict[str, Any]] = deque(maxlen=500)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.actions: list[tuple[str, Action]] = self._available_actions()

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None and self.actions:
            self._thread = threading.Thread(target=self._run, name="sandbox-team-activity", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def step(self) -> dict[str, Any]:
        """Perform one random action now; returns what was done (or the error)."""
        vendor, action = self.rng.choice(self.actions)
        record: dict[str, Any] = {"vendor": vendor, "action": action.__name__, "time": time.time()}
        try:
            record["what"] = action(self.rng)
            record["ok"] = True
        except Exception as exc:  # one failed action must not stop the team
            record.update(ok=False, error=f"{type(exc).__name__}: {exc}")
            log.warning("sandbox activity failed", vendor=vendor, action=action.__name__, error=str(exc))
        self.done.append(record)
        return record

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s * self.rng.uniform(0.5, 1.5)):
            self.step()

    # --- the actions ----------------------------------------------------------------------
    def _available_actions(self) -> list[tuple[str, Action]]:
        found: list[tuple[str, Action]] = []
        table: dict[str, list[tuple[str, Action]]] = {
            "jira": [
                ("edit_issue", self._jira_edit),
                ("transition_issue", self._jira_transition),
                ("add_comment", self._jira_comment),
            ],
            "confluence": [("edit_page", self._confluence_edit)],
            "slack": [("post_message", self._slack_post)],
            "google_calendar": [("edit_event", self._google_move)],
            "graph": [("move_event", self._graph_move), ("update_event", self._graph_rename)],
        }
        for vendor, candidates in table.items():
            sim = self.simulators.get(vendor)
            for method, action in candidates:
                if sim is not None and callable(getattr(sim, method, None)):
                    found.append((vendor, action))
        return found

    def _issue_key(self, rng: random.Random) -> str:
        jira = self.simulators.get("jira")
        world = jira.world if jira is not None else next(iter(self.simulators.values())).world
        return f"{world.project_key}-{rng.randint(1, world.issue_count)}"

    def _jira_edit(self, rng: random.Random) -> str:
        key = self._issue_key(rng)
        self.simulators["jira"].edit_issue(key, summary=f"{rng.choice(_SUBJECTS)} ({key})")
        return f"edited {key}"

    def _jira_transition(self, rng: random.Random) -> str:
        key = self._issue_key(rng)
        status = rng.choice(_STATUSES)
        self.simulators["jira"].transition_issue(key, status)
        return f"moved {key} to {status}"

    def _jira_comment(self, rng: random.Random) -> str:
        key = self._issue_key(rng)
        self.simulators["jira"].add_comment(key, "Looked at this during refinement: estimate holds.")
        return f"commented on {key}"

    def _confluence_edit(self, rng: random.Random) -> str:
        wiki = self.simulators["confluence"]
        page = rng.choice(wiki.pages_in())
        wiki.edit_page(page.id, body=f"<p>Updated notes: {rng.choice(_SUBJECTS)}.</p>")
        return f"edited page {page.id}"

    def _slack_post(self, rng: random.Random) -> str:
        slack = self.simulators["slack"]
        channel = slack.channel_id(rng.choice(["team-checkout", "dev", "standup"]))
        text = rng.choice(_MESSAGES).format(key=self._issue_key(rng))
        slack.post_message(channel, text, user=rng.choice([m.key for m in slack.world.members]))
        return f"posted in {channel}"

    def _google_move(self, rng: random.Random) -> str:
        google = self.simulators["google_calendar"]
        calendar = google.team_calendar
        with google.lock:
            events = [
                e
                for e in google.store.calendar(calendar).events.values()
                if not getattr(e, "cancelled", False) and not e.resource.get("recurrence")
            ]
        event = rng.choice(events)
        google.edit_event(
            calendar, event.id, {"summary": f"{event.resource.get('summary', 'Meeting')} (moved)"[:120]}
        )
        return f"renamed Google event {event.id}"

    def _graph_singles(self, rng: random.Random) -> Any:
        graph = self.simulators["graph"]
        return rng.choice([e for e in graph.events_of(rng.choice(["po", "dev1", "qa"])) if not e.is_series])

    def _graph_move(self, rng: random.Random) -> str:
        event = self._graph_singles(rng)
        self.simulators["graph"].move_event(event.id, timedelta(minutes=rng.choice([-30, 30, 60])))
        return f"moved Outlook event {event.id}"

    def _graph_rename(self, rng: random.Random) -> str:
        event = self._graph_singles(rng)
        self.simulators["graph"].update_event(event.id, {"subject": f"{rng.choice(_SUBJECTS)} sync"})
        return f"renamed Outlook event {event.id}"
