"""Request headers as the receivers see them: a plain ``dict`` whose lookups ignore case.

HTTP header names are case-insensitive; vendor code written against ``X-Slack-Signature``
and ASGI's lower-cased ``x-slack-signature`` must both find the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["CONNECTOR_HEADER", "Headers", "stored_headers"]

CONNECTOR_HEADER = "x-passerelle-connector"
"""Added to a stored delivery: the configured connector that verified it."""

# Never persisted: they carry credentials, not anything a receiver needs.
_DROPPED = frozenset({"authorization", "cookie", "proxy-authorization"})


class Headers(dict[str, str]):
    """Lower-cased keys; ``get``, ``[]`` and ``in`` accept any case."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        super().__init__((k.lower(), v) for k, v in pairs)

    @classmethod
    def from_lower(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """From names that are lower-case already (ASGI's): no lowering pass."""
        headers = cls.__new__(cls)
        dict.update(headers, pairs)
        return headers

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)


def stored_headers(headers: Mapping[str, str], connector: str) -> dict[str, str]:
    """What goes into the inbox with the body: the vendor's headers and the verifying connector."""
    kept = {k.lower(): v for k, v in headers.items() if k.lower() not in _DROPPED}
    kept[CONNECTOR_HEADER] = connector
    return kept
