"""Expansion of a Graph ``patternedRecurrence`` into occurrence dates.

Supports the patterns the seeded world and the hub use: ``daily``, ``weekly`` and
``absoluteMonthly``, with ``noEnd``, ``endDate`` and ``numbered`` ranges. Occurrences
keep the series' wall-clock time in the recurrence time zone (so they follow DST).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

__all__ = ["occurrence_dates"]

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_HORIZON_DAYS = 3660  # a "noEnd" series is expanded at most ten years ahead


def _candidates(pattern: dict[str, Any], start: date) -> Iterator[date]:
    kind = pattern.get("type", "daily")
    interval = max(1, int(pattern.get("interval") or 1))
    if kind == "daily":
        day = start
        while True:
            yield day
            day += timedelta(days=interval)
    elif kind == "weekly":
        wanted = {
            _WEEKDAYS.index(d.lower()) for d in pattern.get("daysOfWeek") or [_WEEKDAYS[start.weekday()]]
        }
        first_dow = _WEEKDAYS.index(str(pattern.get("firstDayOfWeek") or "sunday").lower())
        week_start = start - timedelta(days=(start.weekday() - first_dow) % 7)
        while True:
            for offset in range(7):
                day = week_start + timedelta(days=offset)
                if day >= start and day.weekday() in wanted:
                    yield day
            week_start += timedelta(weeks=interval)
    elif kind == "absoluteMonthly":
        dom = int(pattern.get("dayOfMonth") or start.day)
        year, month = start.year, start.month
        while True:
            try:
                day = date(year, month, dom)
            except ValueError:
                day = None
            if day is not None and day >= start:
                yield day
            month += interval
            year += (month - 1) // 12
            month = (month - 1) % 12 + 1
    else:
        raise ValueError(f"recurrence pattern {kind!r} is not supported by the sandbox")


def occurrence_dates(
    recurrence: dict[str, Any],
    first_start: datetime,
    duration: timedelta,
    tz: tzinfo,
    window_start: datetime,
    window_end: datetime,
) -> list[date]:
    """Local dates of the occurrences that overlap ``[window_start, window_end)``."""
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    local_first = first_start.astimezone(tz)
    start_day = date.fromisoformat(rng["startDate"]) if rng.get("startDate") else local_first.date()
    range_type = rng.get("type", "noEnd")
    end_day = date.fromisoformat(rng["endDate"]) if range_type == "endDate" else None
    limit = int(rng.get("numberOfOccurrences") or 0) if range_type == "numbered" else 0
    at: time = local_first.timetz().replace(tzinfo=None)
    last_useful = window_end.astimezone(tz).date() + timedelta(days=1)
    hard_stop = start_day + timedelta(days=_HORIZON_DAYS)
    out: list[date] = []
    for count, day in enumerate(_candidates(pattern, start_day), start=1):
        if (end_day and day > end_day) or day > last_useful or day > hard_stop or (limit and count > limit):
            break
        begins = datetime.combine(day, at, tzinfo=tz)
        if begins < window_end and begins + duration > window_start:
            out.append(day)
    return out
