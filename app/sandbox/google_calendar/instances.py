"""Recurring series: instance ids, and the expansion of a master into its instances (exceptions applied).

An instance id is ``<masterId>_<YYYYMMDDTHHMMSSZ>`` (UTC start) for timed series and
``<masterId>_<YYYYMMDD>`` for all-day ones. An exception is a stored event with that id,
``recurringEventId`` and ``originalStartTime``; a cancelled exception removes the instance.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.sandbox.google_calendar.errors import GoogleApiError
from app.sandbox.google_calendar.model import CalendarData, StoredEvent, moment_of, zone
from app.sandbox.google_calendar.recurrence import Recurrence, parse_recurrence

__all__ = [
    "DEFAULT_HORIZON",
    "aware",
    "expand",
    "instance_id",
    "materialize",
    "occurrence_of",
    "series",
    "split_instance_id",
]

DEFAULT_HORIZON = timedelta(days=366)
"""How far past now an unbounded series is expanded when the caller sets no ``timeMax``."""
_MAX_INSTANCES = 5000


def instance_id(master_id: str, original: datetime | date) -> str:
    if isinstance(original, datetime):
        return f"{master_id}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return f"{master_id}_{original:%Y%m%d}"


def split_instance_id(event_id: str) -> tuple[str, datetime | date] | None:
    """``(master id, original start)`` for an instance id, else ``None``."""
    master, sep, stamp = event_id.rpartition("_")
    if not sep or not master:
        return None
    try:
        if len(stamp) == 16 and stamp.endswith("Z"):
            return master, datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if len(stamp) == 8 and stamp.isdigit():
            return master, datetime.strptime(stamp, "%Y%m%d").date()
    except ValueError:
        return None
    return None


def aware(moment: datetime | date, tz_name: str) -> datetime:
    """An all-day date as midnight in the calendar's zone; datetimes unchanged."""
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time(), tzinfo=zone(tz_name))


def series(master: dict[str, Any], calendar_zone: str) -> tuple[Recurrence, datetime | date, timedelta, str]:
    """(rule, first start, duration, series zone) of a recurring master. Raises 400 on a bad rule."""
    tz_name = str(master.get("start", {}).get("timeZone") or calendar_zone)
    try:
        rule = parse_recurrence(list(master.get("recurrence") or []), zone(tz_name))
    except (ValueError, KeyError) as exc:
        raise GoogleApiError(400, f"Invalid recurrence rule: {exc}", "invalid") from exc
    if rule is None:
        raise GoogleApiError(400, "Invalid recurrence rule: no RRULE", "invalid")
    start = moment_of(master["start"], tz_name)
    end = moment_of(master["end"], tz_name)
    if isinstance(start, datetime):
        start = start.astimezone(zone(tz_name))
        duration = aware(end, tz_name) - start
    else:
        duration = (end if not isinstance(end, datetime) else end.date()) - start
    return rule, start, duration, tz_name


def _render(moment: datetime | date, tz_name: str) -> dict[str, Any]:
    if isinstance(moment, datetime):
        return {"dateTime": moment.astimezone(zone(tz_name)).isoformat(), "timeZone": tz_name}
    return {"date": moment.isoformat()}


def occurrence_of(
    master: dict[str, Any], calendar_zone: str, original: datetime | date
) -> datetime | date | None:
    """The series occurrence starting at ``original`` (any zone), or ``None`` when there is none."""
    rule, start, _, tz_name = series(master, calendar_zone)
    if isinstance(original, datetime) != isinstance(start, datetime):
        return None
    target = original.astimezone(zone(tz_name)) if isinstance(original, datetime) else original
    horizon = aware(target, tz_name) + timedelta(seconds=1)
    for occurrence in rule.occurrences(start, horizon):
        if occurrence == target:
            return occurrence
    return None


def materialize(master: dict[str, Any], calendar_zone: str, original: datetime | date) -> dict[str, Any]:
    """The untouched instance of ``master`` that starts at ``original``."""
    _, _, duration, tz_name = series(master, calendar_zone)
    event_id = instance_id(master["id"], original)
    instance = {k: v for k, v in master.items() if k not in ("recurrence", "id", "etag")}
    instance["id"] = event_id
    instance["etag"] = (
        '"' + str(int(hashlib.sha256(f"{master['etag']}{event_id}".encode()).hexdigest()[:15], 16)) + '"'
    )
    instance["recurringEventId"] = master["id"]
    instance["originalStartTime"] = _render(original, tz_name)
    instance["start"] = _render(original, tz_name)
    instance["end"] = _render(original + duration, tz_name)
    return instance


def expand(
    calendar: CalendarData,
    master: StoredEvent,
    window_start: datetime | None,
    window_end: datetime | None,
    show_deleted: bool,
    now: datetime,
) -> list[dict[str, Any]]:
    """The instances of ``master`` that overlap the window, exceptions applied (cancelled ones if asked)."""
    rule, start, duration, tz_name = series(master.resource, calendar.time_zone)
    horizon = window_end or (now + DEFAULT_HORIZON)
    out: list[dict[str, Any]] = []
    for n, occurrence in enumerate(rule.occurrences(start, horizon)):
        if n >= _MAX_INSTANCES:
            break
        exception = calendar.events.get(instance_id(master.id, occurrence))
        if exception is not None:
            if exception.cancelled:
                if show_deleted:
                    out.append(exception.minimal())
                continue
            resource = exception.resource
        else:
            if window_start is not None and aware(occurrence + duration, tz_name) <= window_start:
                continue
            resource = materialize(master.resource, calendar.time_zone, occurrence)
        if overlaps(resource, calendar.time_zone, window_start, window_end):
            out.append(resource)
    return out


def overlaps(
    resource: dict[str, Any], calendar_zone: str, window_start: datetime | None, window_end: datetime | None
) -> bool:
    """Google's window: the event ends after ``timeMin`` and starts before ``timeMax`` (both exclusive)."""
    if window_start is None and window_end is None:
        return True
    start = aware(moment_of(resource["start"], calendar_zone), calendar_zone)
    end = aware(moment_of(resource["end"], calendar_zone), calendar_zone)
    if window_start is not None and end <= window_start:
        return False
    return not (window_end is not None and start >= window_end)
