"""RFC 5545 recurrence for the simulator: RRULE DAILY|WEEKLY (INTERVAL, BYDAY, COUNT, UNTIL) and EXDATE.

Occurrences are computed in the series' own time zone (wall-clock time is kept across
DST changes, as Google does). Anything outside that subset is refused with ``ValueError``
(the simulator answers 400) rather than expanded wrongly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["Recurrence", "parse_recurrence"]

_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


@dataclass(frozen=True)
class Recurrence:
    freq: str
    interval: int = 1
    byday: tuple[int, ...] = ()
    count: int | None = None
    until: datetime | date | None = None
    exdates: frozenset[datetime | date] = frozenset()

    def occurrences(self, start: datetime | date, horizon: datetime) -> Iterator[datetime | date]:
        """Starts of the occurrences, in order, from ``start`` (the first) up to ``horizon`` (exclusive).

        ``start`` is an aware datetime in the series' zone, or a date for all-day series.
        """
        emitted = 0
        excluded = {_utc_key(x) for x in self.exdates}
        for day in self._candidate_days(_as_date(start)):
            occurrence: datetime | date
            if isinstance(start, datetime):
                occurrence = datetime.combine(day, start.timetz().replace(tzinfo=None), tzinfo=start.tzinfo)
            else:
                occurrence = day
            if _before(occurrence, start):
                continue
            if self.until is not None and _after_until(occurrence, self.until):
                return
            if self.count is not None and emitted >= self.count:
                return
            if not _before(occurrence, horizon):
                return
            emitted += 1
            if _utc_key(occurrence) not in excluded:
                yield occurrence

    def _candidate_days(self, first: date) -> Iterator[date]:
        if self.freq == "DAILY":
            day = first
            while True:
                if not self.byday or day.weekday() in self.byday:
                    yield day
                day += timedelta(days=self.interval)
        else:  # WEEKLY
            days = self.byday or (first.weekday(),)
            week = first - timedelta(days=first.weekday())
            while True:
                for weekday in sorted(days):
                    yield week + timedelta(days=weekday)
                week += timedelta(weeks=self.interval)


def parse_recurrence(lines: list[str], tz: ZoneInfo) -> Recurrence | None:
    """Parse an event's ``recurrence`` lines; ``None`` when there is no RRULE. Raises ``ValueError``."""
    rule: dict[str, str] | None = None
    exdates: set[datetime | date] = set()
    for line in lines:
        name, _, value = line.partition(":")
        head, *params = name.split(";")
        if head == "RRULE":
            if rule is not None:
                raise ValueError("more than one RRULE")
            rule = dict(part.split("=", 1) for part in value.split(";") if part)
        elif head == "EXDATE":
            zone = next((ZoneInfo(p.split("=", 1)[1]) for p in params if p.startswith("TZID=")), tz)
            exdates.update(_parse_moment(v, zone) for v in value.split(","))
        elif head in ("RDATE", "EXRULE"):
            raise ValueError(f"{head} is not supported by the sandbox")
        else:
            raise ValueError(f"invalid recurrence line: {line!r}")
    if rule is None:
        return None
    freq = rule.get("FREQ")
    if freq not in ("DAILY", "WEEKLY"):
        raise ValueError(f"FREQ={freq} is not supported by the sandbox")
    unknown = set(rule) - {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"}
    if unknown:
        raise ValueError(f"unsupported RRULE parts: {sorted(unknown)}")
    if "COUNT" in rule and "UNTIL" in rule:
        raise ValueError("COUNT and UNTIL are exclusive")
    byday = tuple(_WEEKDAYS[d] for d in rule["BYDAY"].split(",")) if "BYDAY" in rule else ()
    interval = int(rule.get("INTERVAL", "1"))
    if interval < 1:
        raise ValueError("INTERVAL must be positive")
    return Recurrence(
        freq=freq,
        interval=interval,
        byday=byday,
        count=int(rule["COUNT"]) if "COUNT" in rule else None,
        until=_parse_moment(rule["UNTIL"], UTC) if "UNTIL" in rule else None,
        exdates=frozenset(exdates),
    )


def _parse_moment(value: str, tz: tzinfo) -> datetime | date:
    if "T" not in value:
        return datetime.strptime(value, "%Y%m%d").date()
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    naive = datetime.strptime(value, "%Y%m%dT%H%M%S")
    return naive.replace(tzinfo=tz)


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _utc_key(value: datetime | date) -> datetime | date:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _before(a: datetime | date, b: datetime | date) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a < b
    if isinstance(a, datetime):
        return a.date() < _as_date(b)
    if isinstance(b, datetime):
        return datetime.combine(a, time(), tzinfo=b.tzinfo) < b
    return a < b


def _after_until(occurrence: datetime | date, until: datetime | date) -> bool:
    if isinstance(until, datetime):
        if isinstance(occurrence, datetime):
            return occurrence > until
        return occurrence > until.date()
    return _as_date(occurrence) > until
