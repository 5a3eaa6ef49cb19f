"""Graph's ``dateTimeTimeZone``: a wall-clock time plus a Windows or IANA zone name.

Exchange stores zones under Windows names ("Romance Standard Time"); the API also
accepts IANA names. The table holds the zones the seeded world and the tests use.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["WINDOWS_TO_IANA", "format_graph_datetime", "parse_graph_datetime", "windows_name", "zone"]

WINDOWS_TO_IANA: dict[str, str] = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "Romance Standard Time": "Europe/Paris",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
}
_IANA_TO_WINDOWS = {iana: win for win, iana in WINDOWS_TO_IANA.items()}


def zone(name: str | None) -> tzinfo:
    """The zone for a Windows or IANA name; raises ``ValueError`` for an unknown one."""
    if not name or name in ("UTC", "Etc/UTC", "tzone://Microsoft/Utc"):
        return UTC
    iana = WINDOWS_TO_IANA.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def windows_name(iana_or_windows: str) -> str:
    """The Windows name Exchange would store for a zone (unknown names are kept)."""
    return _IANA_TO_WINDOWS.get(iana_or_windows, iana_or_windows)


def parse_graph_datetime(value: dict[str, object]) -> datetime:
    """``{"dateTime": "2026-11-26T09:15:00.0000000", "timeZone": "..."}`` -> aware UTC datetime."""
    raw = str(value.get("dateTime") or "")
    if not raw:
        raise ValueError("dateTime is required")
    tz_name = value.get("timeZone")
    raw = raw.rstrip("Z")
    head, _, frac = raw.partition(".")
    naive = datetime.fromisoformat(head)
    if frac:
        naive = naive.replace(microsecond=int((frac + "000000")[:6]))
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=zone(str(tz_name) if tz_name else None)).astimezone(UTC)


def format_graph_datetime(moment: datetime, tz_name: str) -> dict[str, str]:
    """An aware datetime rendered the way Graph does, in ``tz_name`` (7 fractional digits)."""
    local = moment.astimezone(zone(tz_name))
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{local.microsecond:06d}0"
    return {"dateTime": text, "timeZone": "UTC" if zone(tz_name) is UTC else tz_name}
