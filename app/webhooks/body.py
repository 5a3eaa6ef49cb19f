"""Read a request body with a size limit: refused on ``Content-Length`` and again while streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator

__all__ = ["BodyTooLarge", "read_limited"]


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit = limit


async def read_limited(content_length: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body, or :class:`BodyTooLarge` as soon as it is known to exceed ``limit``.

    A lying or absent ``Content-Length`` (chunked transfer) is caught while reading, so
    an oversize body is never held in memory.
    """
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            declared = 0
        if declared > limit:
            raise BodyTooLarge(limit)
    buffer = bytearray()
    async for chunk in chunks:
        buffer.extend(chunk)
        if len(buffer) > limit:
            raise BodyTooLarge(limit)
    return bytes(buffer)
