"""Read a request body with a size limit: refused on ``Content-Length`` and again while streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BodyTooLarge", "ClientDisconnected", "read_limited", "receive_limited"]


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit = limit


class ClientDisconnected(Exception):
    """The client hung up before its body was read in full."""


def _check_declared(content_length: str | None, limit: int) -> None:
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            declared = 0
        if declared > limit:
            raise BodyTooLarge(limit)


async def read_limited(content_length: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body, or :class:`BodyTooLarge` as soon as it is known to exceed ``limit``.

    A lying or absent ``Content-Length`` (chunked transfer) is caught while reading, so
    an oversize body is never held in memory.
    """
    _check_declared(content_length, limit)
    buffer = bytearray()
    async for chunk in chunks:
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise BodyTooLarge(limit)
    return bytes(buffer)


async def receive_limited(
    content_length: str | None, receive: Callable[[], Awaitable[MutableMapping[str, Any]]], limit: int
) -> bytes:
    """:func:`read_limited` on an ASGI ``receive`` (``http.request`` messages).

    Raises :class:`ClientDisconnected` on ``http.disconnect``. A body that arrives in one
    message (the usual webhook) is returned as it came, without a copy.
    """
    _check_declared(content_length, limit)
    message = await receive()
    if message["type"] != "http.request":
        raise ClientDisconnected()
    body: bytes = message.get("body", b"")
    if len(body) > limit:
        raise BodyTooLarge(limit)
    if not message.get("more_body", False):
        return body
    buffer = bytearray(body)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnected()
        buffer.extend(message.get("body", b""))
        if len(buffer) > limit:
            raise BodyTooLarge(limit)
        if not message.get("more_body", False):
            return bytes(buffer)
