"""Helpers of the fault suite: chaos, request logs, syncing until a run succeeds, source mutations,
and the exact comparison with the sandbox (through :mod:`app.sandbox.truth`)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from app.cli.demo import DEFAULT_DEMO_CONFIG, point_at_sandbox
from app.connectors.base import Connector
from app.hub import Hub
from app.sandbox.common import Chaos, RequestLogEntry
from app.sandbox.runner import Sandbox
from app.sandbox.truth import compare, format_differences
from app.settings import Settings, load_settings
from app.storage.protocol import RunRecord, RunStatus, Store

__all__ = [
    "ADMIN_TOKEN",
    "assert_converged",
    "clear_chaos",
    "demo_settings",
    "mutate_sources",
    "retry_after_violations",
    "set_chaos",
    "sync_until_succeeded",
    "write_config",
]

ADMIN_TOKEN = "fault-suite-admin-token-3b9e1f"


def demo_settings(sandbox: Sandbox, data_dir: Path, **sync: Any) -> Settings:
    """The demo configuration (every vendor, every pair) against ``sandbox``, SQLite in ``data_dir``."""
    settings = point_at_sandbox(load_settings(DEFAULT_DEMO_CONFIG), sandbox.urls, sandbox.ca_file)
    return settings.model_copy(update={
        "data_dir": data_dir,
        "demo": False,
        "admin_token": SecretStr(ADMIN_TOKEN),
        "sync": settings.sync.model_copy(update=sync),
        "log": settings.log.model_copy(update={"format": "json", "level": "WARNING"}),
    })


def write_config(settings: Settings, path: Path) -> Path:
    """``settings`` as a YAML file a ``passerelle`` subprocess loads (secrets in clear: sandbox values)."""
    data = json.loads(settings.model_dump_json(exclude_none=True))
    for name, conf in settings.connectors.items():
        for key, value in conf:
            if hasattr(value, "get_secret_value"):
                data["connectors"][name][key] = value.get_secret_value()
    if settings.admin_token is not None:
        data["admin_token"] = settings.admin_token.get_secret_value()
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def set_chaos(sandbox: Sandbox, **settings: Any) -> None:
    """The same chaos on every simulator (each with its own seed, so runs are repeatable-ish)."""
    for index, sim in enumerate(sandbox.simulators.values()):
        sim.chaos.update({**settings, "seed": 1000 + index})


def clear_chaos(sandbox: Sandbox) -> None:
    for sim in sandbox.simulators.values():
        sim.chaos.update(Chaos().to_dict())


@dataclass(frozen=True)
class Violation:
    vendor: str
    limited: RequestLogEntry
    retried: RequestLogEntry

    def __str__(self) -> str:
        allowed = self.limited.time + self.limited.duration_ms / 1000 + (self.limited.retry_after_s or 0)
        early = allowed - self.retried.time
        return (f"{self.vendor}: {self.retried.method} {self.retried.path}?{self.retried.query} came "
                f"{early:.3f}s before the Retry-After of request #{self.limited.seq} elapsed")


# The clocks are the same machine's; the 429's own logged duration ends a hair after the answer left.
_SLACK_S = 0.01


def retry_after_violations(vendor: str, entries: Iterable[RequestLogEntry]) -> tuple[list[Violation], int]:
    """Retries of 429'd requests made before their ``Retry-After`` elapsed; and how many 429s were checked.

    Several requests may be in flight at once, so only the retried request must wait: the
    next request with the same method, path and query after the 429 (the hub's reads of one
    partition are sequential, so that is the retry).
    """
    ordered = sorted(entries, key=lambda e: e.seq)
    violations: list[Violation] = []
    checked = 0
    for i, limited in enumerate(ordered):
        if limited.status != 429 or limited.retry_after_s is None:
            continue
        checked += 1
        answered = limited.time + limited.duration_ms / 1000
        retried = next((e for e in ordered[i + 1:] if (e.method, e.path, e.query) ==
                        (limited.method, limited.path, limited.query) and e.time >= limited.time), None)
        if retried is not None and retried.time + _SLACK_S < answered + limited.retry_after_s:
            violations.append(Violation(vendor, limited, retried))
    return violations, checked


async def sync_until_succeeded(
    hub: Hub, pair_id: str, *, full: bool = False, attempts: int = 3
) -> list[RunRecord]:
    """Run ``pair_id`` until a run succeeds; a transient failure may happen, the next run must converge."""
    runs: list[RunRecord] = []
    for _ in range(attempts):
        run = await hub.sync(pair_id, full=full and not runs, trigger="cli")
        runs.append(run)
        if run.status is RunStatus.SUCCEEDED:
            return runs
        assert run.status is RunStatus.FAILED and run.error_class == "transient", (
            f"{pair_id}: {run.status} [{run.error_class}] {run.error} flags={run.flags}")
    raise AssertionError(f"{pair_id}: no successful run in {attempts}: "
                         + "; ".join(f"[{r.error_class}] {r.error}" for r in runs))


def assert_converged(store: Store, sandbox: Sandbox, connectors: Mapping[str, Connector]) -> None:
    """Exact equality of the hub's live records with the simulators' state (ids, versions, bodies)."""
    differences = compare(store, sandbox, connectors)
    assert not differences, format_differences(differences)
    for name in connectors:
        assert store.count_records(name) > 0, f"{name}: no records at all, the comparison proves nothing"


def mutate_sources(sandbox: Sandbox, seed: int, steps: int = 20) -> list[str]:
    """Team activity (edits, moves, posts) plus a create and a delete in every vendor."""
    from app.sandbox.activity import TeamActivity

    rng = random.Random(seed)
    activity = TeamActivity(dict(sandbox.simulators), seed=seed)
    done = [str(activity.step().get("what")) for _ in range(steps)]
    sims: dict[str, Any] = dict(sandbox.simulators)
    world = sandbox.world

    jira = sims["jira"]
    jira.create_issue(world.project_key, {"summary": "Fault suite: a new issue", "issuetype": "Bug"})
    jira.delete_issue(f"{world.project_key}-{rng.randint(1, world.issue_count)}")

    slack = sims["slack"]
    channel = slack.channel_id("dev")
    posted = slack.post_message(channel, "fault suite: posted then edited", user="dev1")
    slack.edit_message(channel, posted["ts"], "fault suite: edited")
    with slack.lock:
        plain = [m for m in slack.workspace.messages[channel].values()
                 if not m.get("reply_count") and not m.get("thread_ts") and m["ts"] != posted["ts"]]
    slack.delete_message(channel, rng.choice(plain)["ts"])

    google = sims["google_calendar"]
    calendar = google.team_calendar
    with google.lock:
        singles = [e.id for e in google.store.calendar(calendar).events.values()
                   if not e.cancelled and not e.resource.get("recurrence") and not e.is_exception]
    google.cancel_event(calendar, rng.choice(singles))

    graph = sims["graph"]
    graph.delete_event(rng.choice([e.id for e in graph.events_of("me") if not e.is_series]))

    confluence = sims["confluence"]
    pages = [p for p in confluence.pages_in(world.space_key) if not _is_homepage(confluence, p)]
    confluence.trash_page(rng.choice(pages).id)
    return done


def _is_homepage(confluence: Any, page: Any) -> bool:
    return any(s.homepage_id == page.id for s in confluence.wiki.spaces.values())

