"""Responses are decoded with orjson, exactly as googleapiclient's JsonModel decodes them."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.model import JsonModel

from app.connectors.google_calendar import GoogleCalendarConnector
from app.connectors.google_calendar.client import OrjsonModel
from app.sandbox.google_calendar import GoogleCalendarSimulator

BODIES = [
    b'{"items": [{"id": "e1", "summary": "Caf\\u00e9 \xe2\x98\x95", "sequence": 3, "attendees": []}]}',
    b'{"etag": "\\"3180000000001000\\"", "nextSyncToken": "CAE="}',
    b'{"sequence": 18446744073709551615}',  # the widest integer orjson keeps as an integer
    b'{"sequence": 123456789012345678901234567890}',  # orjson alone would give a float
    b'{"sequence": -12345678901234567890}',
    b'{"ratio": 0.1, "small": 1e-7, "exp": 2.5E3, "neg": -0.0}',
    b'{"a": 1, "a": 2}',
    b'{"value": NaN}',  # not JSON: the standard library accepts it
    b'{"value": Infinity}',
    b'"\\ud800"',  # a lone surrogate
    b"\xef\xbb\xbf{}",  # a byte order mark: kept as text
    b"<html>Bad gateway</html>",  # not JSON: kept as text
    b"",
    b"[1, 2, [3, {\"k\": null}], true, false]",
]


@pytest.mark.parametrize("body", BODIES)
def test_a_body_decodes_to_what_googleapiclients_json_model_gives(body: bytes) -> None:
    ours, theirs = OrjsonModel().deserialize(body), JsonModel().deserialize(body)

    assert repr(ours) == repr(theirs)  # repr: an int and an equal float differ, so do -0.0 and 0.0


def test_invalid_utf8_fails_as_it_does_in_googleapiclient() -> None:
    with pytest.raises(UnicodeDecodeError):
        JsonModel().deserialize(b'{"summary": "\xff"}')
    with pytest.raises(UnicodeDecodeError):
        OrjsonModel().deserialize(b'{"summary": "\xff"}')


async def test_requests_are_built_from_collections_made_once_and_decode_with_orjson(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    """Pins googleapiclient internals the client relies on: ``build(model=)`` reaches every
    request (``HttpRequest.postproc`` is the model's ``response``), and a collection serves many requests."""
    seen: list[tuple[Any, Any]] = []

    def factory(resources: Any) -> Any:
        request = resources["events"].list(calendarId=sim.team_calendar, maxResults=1)
        seen.append((resources["events"], request))
        return request

    first = await connector.client.call(factory)
    await connector.client.call(factory)

    assert first["items"]
    (events_a, request), (events_b, _) = seen
    assert events_a is events_b
    assert isinstance(request.postproc.__self__, OrjsonModel)
