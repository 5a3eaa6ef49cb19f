"""``parse_jira_time`` reads Jira's timestamps exactly as ``strptime`` with Jira's format does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.connectors.jira.mapping import parse_jira_time

_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30)),
    offset_min=st.integers(min_value=-14 * 60, max_value=14 * 60),
    digits=st.sampled_from([3, 6]),
)
def test_same_moment_and_offset_as_strptime(moment: datetime, offset_min: int, digits: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_min)))
    text = aware.strftime("%Y-%m-%dT%H:%M:%S.%f")[: 20 + digits] + aware.strftime("%z")
    parsed = parse_jira_time(text)
    expected = datetime.strptime(text, _FORMAT)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_jira_format() -> None:
    assert parse_jira_time("2024-05-01T10:15:30.123+0200") == datetime(2024, 5, 1, 8, 15, 30, 123000, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2024-05-01T10:15:30+0200", "2024-13-01T10:15:30.123+0200",
                                  "2024-05-01T10:15:30.12a+0200", "2024-05-01 10:15:30.123+0200x", ""])
def test_what_strptime_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        datetime.strptime(text, _FORMAT)
    with pytest.raises(ValueError):
        parse_jira_time(text)
