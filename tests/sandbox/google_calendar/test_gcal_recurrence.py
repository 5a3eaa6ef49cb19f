"""The RRULE subset the simulator expands: DAILY/WEEKLY, INTERVAL, BYDAY, COUNT, UNTIL, EXDATE."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.sandbox.google_calendar.recurrence import parse_recurrence

PARIS = ZoneInfo("Europe/Paris")
FAR = datetime(2030, 1, 1, tzinfo=UTC)


def _starts(lines: list[str], start: datetime | date, horizon: datetime = FAR) -> list[datetime | date]:
    rule = parse_recurrence(lines, PARIS)
    assert rule is not None
    return list(rule.occurrences(start, horizon))


def test_weekly_byday_with_count_skips_weekends() -> None:
    starts = _starts(
        ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=7"], datetime(2026, 11, 26, 9, 15, tzinfo=PARIS)
    )
    assert [s.day for s in starts if isinstance(s, datetime)] == [26, 27, 30, 1, 2, 3, 4]


def test_wall_clock_time_is_kept_across_a_dst_change() -> None:
    starts = _starts(["RRULE:FREQ=DAILY;COUNT=3"], datetime(2026, 10, 24, 9, 15, tzinfo=PARIS))
    assert all(isinstance(s, datetime) and s.time() == time(9, 15) for s in starts)
    assert [
        s.utcoffset().total_seconds() / 3600
        for s in starts
        if isinstance(s, datetime)  # type: ignore[union-attr]
    ] == [2, 1, 1]


def test_until_is_inclusive_and_interval_skips_weeks() -> None:
    starts = _starts(
        ["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;UNTIL=20261225T130000Z"],
        datetime(2026, 11, 13, 14, 0, tzinfo=PARIS),
    )
    assert [s.day for s in starts if isinstance(s, datetime)] == [13, 27, 11, 25]


def test_exdate_removes_an_occurrence_but_still_counts() -> None:
    starts = _starts(
        ["RRULE:FREQ=DAILY;COUNT=3", "EXDATE;TZID=Europe/Paris:20261202T091500"],
        datetime(2026, 12, 1, 9, 15, tzinfo=PARIS),
    )
    assert [s.day for s in starts if isinstance(s, datetime)] == [1, 3]


def test_all_day_series_yield_dates() -> None:
    assert _starts(["RRULE:FREQ=WEEKLY;COUNT=2"], date(2026, 12, 1)) == [date(2026, 12, 1), date(2026, 12, 8)]


def test_unbounded_series_stop_at_the_horizon() -> None:
    starts = _starts(
        ["RRULE:FREQ=DAILY"],
        datetime(2026, 12, 1, 8, tzinfo=PARIS),
        horizon=datetime(2026, 12, 4, tzinfo=PARIS),
    )
    assert len(starts) == 3


@pytest.mark.parametrize(
    "line",
    [
        "RRULE:FREQ=MONTHLY",
        "RRULE:FREQ=DAILY;BYMONTH=1",
        "RDATE:20261201",
        "RRULE:FREQ=DAILY;COUNT=2;UNTIL=20261201",
        "nonsense",
    ],
)
def test_rules_outside_the_subset_are_refused(line: str) -> None:
    with pytest.raises(ValueError):
        parse_recurrence([line], PARIS)
