"""Pure mapping of Slack JSON to the unified model, and the one table of Slack errors."""

from __future__ import annotations

import pytest

from app.connectors.slack.errors import hub_error
from app.connectors.slack.mapping import (
    message_version,
    origin_marker,
    origin_of,
    split_external_id,
    to_message,
    to_person,
)
from app.errors import (
    ConfigError,
    CursorInvalidated,
    ErrorClass,
    PermissionDenied,
    RateLimited,
    RecordNotFound,
    TransientError,
)
from app.models import Reaction

PARENT = {
    "type": "message", "user": "U0001", "text": "CHK-4 is blocked", "ts": "1512085950.000216",
    "thread_ts": "1512085950.000216", "reply_count": 2, "latest_reply": "1512086000.000100",
    "reactions": [{"name": "eyes", "users": ["U0002", "U0003"], "count": 2}],
    "edited": {"user": "U0001", "ts": "1512085960.000000"},
}


def test_a_thread_parent_maps_to_a_message_with_its_thread_summary() -> None:
    message = to_message("C1", PARENT)
    assert (message.channel, message.author, message.ts, message.thread_ts) == (
        "C1", "U0001", "1512085950.000216", "1512085950.000216")
    assert (message.reply_count, message.edited) == (2, True)
    assert message.reactions == (Reaction(name="eyes", count=2, users=("U0002", "U0003")),)


def test_a_bot_message_is_authored_by_its_bot_user() -> None:
    message = to_message("C1", {"type": "message", "bot_id": "B1", "text": "deploy", "ts": "1.000000"})
    assert (message.author, message.edited, message.thread_ts) == ("B1", False, None)


@pytest.mark.parametrize(
    "change",
    [{"text": "unblocked"}, {"reply_count": 3, "latest_reply": "1512086100.000000"},
     {"reactions": []}, {"edited": {"user": "U0001", "ts": "1512089999.000000"}}],
)
def test_every_visible_change_moves_the_version(change: dict[str, object]) -> None:
    assert message_version({**PARENT, **change}) != message_version(PARENT)


def test_fields_that_say_nothing_about_content_keep_the_version() -> None:
    assert message_version({**PARENT, "permalink": "https://x", "bot_profile": {}}) == message_version(PARENT)


def test_the_origin_marker_round_trips_through_message_metadata() -> None:
    assert origin_of({**PARENT, "metadata": origin_marker("outbox-7")}) == "outbox-7"
    assert origin_of(PARENT) is None
    foreign = {"event_type": "other", "event_payload": {"origin": "x"}}
    assert origin_of({**PARENT, "metadata": foreign}) is None


def test_a_user_maps_to_a_person_with_a_slack_account_and_email() -> None:
    person = to_person({"id": "U0001", "name": "amelie", "real_name": "Amélie Laurent", "updated": 5,
                        "profile": {"real_name": "Amélie Laurent", "display_name": "Amélie",
                                    "email": "amelie@orbit.example"}})
    assert (person.display_name, person.emails) == ("Amélie Laurent", ("amelie@orbit.example",))
    [account] = person.accounts
    assert (account.system, account.account_id, account.email, account.display_name) == (
        "slack", "U0001", "amelie@orbit.example", "Amélie")


def test_an_external_id_must_name_a_channel_and_a_ts() -> None:
    assert split_external_id("C1:1.000001") == ("C1", "1.000001")
    with pytest.raises(ValueError):
        split_external_id("C1")


@pytest.mark.parametrize(
    ("status", "data", "headers", "expected"),
    [
        (200, {"error": "invalid_auth"}, {}, ConfigError),
        (200, {"error": "not_authed"}, {}, ConfigError),
        (200, {"error": "token_revoked"}, {}, ConfigError),
        (200, {"error": "token_expired"}, {}, ConfigError),
        (200, {"error": "account_inactive"}, {}, ConfigError),
        (200, {"error": "missing_scope", "needed": "channels:history"}, {}, PermissionDenied),
        (200, {"error": "channel_not_found"}, {}, RecordNotFound),
        (200, {"error": "ratelimited"}, {"retry-after": "7"}, RateLimited),
        (429, {"ok": False}, {"retry-after": "3"}, RateLimited),
        (200, {"error": "internal_error"}, {}, TransientError),
        (200, {"error": "fatal_error"}, {}, TransientError),
        (503, {}, {}, TransientError),
        (200, {"error": "invalid_cursor"}, {}, CursorInvalidated),
    ],
)
def test_slack_errors_map_to_hub_errors(status: int, data: dict[str, str], headers: dict[str, str],
                                        expected: type[Exception]) -> None:
    assert type(hub_error(status, data, headers)) is expected


def test_a_missing_scope_names_the_scope_and_a_429_keeps_retry_after() -> None:
    missing = hub_error(200, {"error": "missing_scope", "needed": "channels:history"}, {})
    assert "channels:history" in str(missing)
    limited = hub_error(429, {}, {"retry-after": "12"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 12.0


def test_an_unknown_slack_error_is_reported_as_a_bug_not_swallowed() -> None:
    error = hub_error(200, {"error": "invalid_arguments"}, {})
    assert error.error_class is ErrorClass.INTERNAL
    assert "invalid_arguments" in str(error)
