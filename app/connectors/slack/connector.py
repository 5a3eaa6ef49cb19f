"""The Slack connector: ``messages`` (partitioned by channel id) and ``users`` (people).

Writes post, edit and delete messages as the bot (a reply when the body names a
``thread_ts``), carrying the hub's origin in message ``metadata``
(``event_type: passerelle_origin``). Slack has no conditional write: ``if_version`` is
checked against a fresh read just before the write (a narrow race remains).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from app.connectors.base import (
    Capability,
    Change,
    CheckResult,
    Page,
    Ref,
    StreamSpec,
    WebhookHint,
    WriteResult,
)
from app.connectors.common import EARLIER_ATTEMPT_MARGIN, RetryPolicy, metered
from app.connectors.slack.client import SlackAnswer, SlackClient
from app.connectors.slack.cursor import ChannelCursor
from app.connectors.slack.mapping import (
    external_id,
    is_person,
    message_version,
    origin_marker,
    person_version,
    split_external_id,
    to_person,
)
from app.connectors.slack.reader import ChannelReader
from app.connectors.slack.webhooks import SlackWebhooks
from app.errors import ConfigError, CursorInvalidated, PreconditionFailed, RecordNotFound
from app.models import AnyBody, DeleteReason, Message, RecordKind, Tombstone
from app.settings import SlackSettings

__all__ = ["REQUIRED_SCOPES", "SlackConnector"]

REQUIRED_SCOPES = ("channels:history", "channels:read", "chat:write", "users:read", "users:read.email")
USERS_PAGE = 200


class SlackConnector:
    system = "slack"
    streams: Sequence[StreamSpec] = (
        StreamSpec("messages", RecordKind.MESSAGE, partitioned=True),
        StreamSpec("users", RecordKind.PERSON),
    )

    def __init__(self, name: str, settings: SlackSettings, *, clock: Callable[[], float] = time.time,
                 retry_policy: RetryPolicy | None = None) -> None:
        self.name = name
        self.settings = settings
        self._clock = clock
        self._policy = retry_policy
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        self.webhooks = SlackWebhooks(name, secret, clock=clock)
        caps = {Capability.READ, Capability.INCREMENTAL, Capability.CENSUS, Capability.WRITE,
                Capability.DELETE}
        if secret:
            caps.add(Capability.WEBHOOKS)
        self.capabilities = frozenset(caps)
        self._client: SlackClient | None = None
        self._reader: ChannelReader | None = None

    async def __aenter__(self) -> Self:
        self._client = SlackClient(self.settings, self._policy)
        self._reader = ChannelReader(self._client, self.settings.thread_lookback_days * 86_400, self._clock)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        client, self._client = self._client, None
        self._reader = None
        if client is not None:
            await client.aclose()

    @property
    def client(self) -> SlackClient:
        if self._client is None:
            raise RuntimeError("use the Slack connector inside 'async with'")
        return self._client

    @property
    def reader(self) -> ChannelReader:
        if self._reader is None:
            raise RuntimeError("use the Slack connector inside 'async with'")
        return self._reader

    # --- status -----------------------------------------------------------------------------
    async def check(self) -> CheckResult:
        try:
            answer = await self.client.call("auth.test")
        except ConfigError as exc:
            return CheckResult(False, str(exc))
        granted = {s.strip() for s in answer.headers.get("x-oauth-scopes", "").split(",") if s.strip()}
        missing = tuple(s for s in REQUIRED_SCOPES if s not in granted)
        team = answer.data.get("team", "")
        if missing:
            return CheckResult(False, f"token for {team} lacks scopes: {', '.join(missing)}", missing)
        return CheckResult(True, f"authenticated to {team} as {answer.data.get('user', '')}")

    async def list_partitions(self, stream: str) -> list[str]:
        self._stream(stream)
        if stream == "users":
            return [""]
        channels = await self._channels()
        if not self.settings.channels:
            return [c["id"] for c in channels if c.get("is_member")]
        by_name = {c["name"]: c["id"] for c in channels}
        ids = {c["id"] for c in channels}
        out = []
        for wanted in self.settings.channels:
            key = wanted.lstrip("#")
            if key in ids:
                out.append(key)
            elif key in by_name:
                out.append(by_name[key])
            else:
                raise ConfigError(f"connectors.{self.name}.channels: no channel {wanted!r} "
                                  "visible to the token")
        return out

    async def _channels(self) -> list[dict[str, Any]]:
        channels: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            answer = await self.client.call("conversations.list", limit=999, cursor=cursor,
                                            exclude_archived=True, types="public_channel,private_channel")
            channels.extend(answer.data.get("channels", []))
            cursor = (answer.data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return channels

    # --- reads ------------------------------------------------------------------------------
    async def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        self._stream(stream)
        if stream == "users":
            async for page in self._read_users(cursor):
                yield page
            return
        if cursor is None:
            async for page in self.reader.full(partition):
                yield page
        else:
            async for page in self.reader.incremental(partition, ChannelCursor.loads(cursor)):
                yield page

    async def _read_users(self, cursor: str | None) -> AsyncIterator[Page]:
        known: dict[str, str] = {}
        if cursor is not None:
            try:
                known = dict(json.loads(cursor)["users"])
            except (ValueError, KeyError, TypeError) as exc:
                raise CursorInvalidated(f"unreadable slack users cursor: {exc}") from exc
        changes: list[Change] = []
        versions: dict[str, str] = {}
        with metered() as meter:
            async for raw in self._users():
                uid, version = str(raw["id"]), person_version(raw)
                versions[uid] = version
                if known.get(uid) != version:
                    changes.append(self._person_change(raw))
        yield Page(changes, json.dumps({"users": versions}, sort_keys=True), meter.calls)

    async def _users(self) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            answer = await self.client.call("users.list", limit=USERS_PAGE, cursor=cursor)
            for raw in answer.data.get("members", []):
                if is_person(raw):
                    yield raw
            cursor = (answer.data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def _person_change(self, raw: dict[str, Any]) -> Change:
        uid = str(raw["id"])
        if raw.get("deleted"):
            # A deactivated Slack account: the person may live on in other tools.
            return self._user_gone(uid, DeleteReason.ARCHIVED, raw)
        return Change(uid, person_version(raw), body=to_person(raw), raw=raw)

    def _user_gone(self, uid: str, reason: DeleteReason, raw: dict[str, Any] | None = None) -> Change:
        tombstone = Tombstone(deleted_at=datetime.fromtimestamp(self._clock(), UTC), reason=reason)
        return Change(uid, person_version(raw or {}), tombstone=tombstone, raw=dict(raw or {}))

    async def list_refs(self, stream: str, partition: str) -> AsyncIterator[Sequence[Ref]]:
        self._stream(stream)
        if stream == "users":
            yield [Ref(str(u["id"]), person_version(u)) async for u in self._users() if not u.get("deleted")]
            return
        async for batch in self.reader.refs(partition):
            yield batch

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        self._stream(stream)
        out: list[Change] = []
        if stream == "users":
            for uid in ids:
                try:
                    answer = await self.client.call("users.info", user=uid)
                except RecordNotFound:
                    out.append(self._user_gone(uid, DeleteReason.DELETED))
                    continue
                out.append(self._person_change(answer.data["user"]))
            return out
        for eid in ids:
            channel, ts = split_external_id(eid)
            try:
                raw = await self.reader.one(channel, ts)
            except RecordNotFound:
                raw = None
            gone = raw is None
            out.append(self.reader.tombstone(channel, ts) if gone else self.reader.upsert(channel, raw or {}))
        return out

    # --- writes -----------------------------------------------------------------------------
    async def create(
        self, stream: str, partition: str, body: AnyBody, origin: str, *, idempotency_key: str | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> WriteResult:
        """Slack has no idempotent post. The message carries ``idempotency_key`` in its metadata.

        Before posting, a message with that key is looked for when an earlier attempt may have
        posted it: before a retry within this call, after an attempt failed in a way that may have
        posted anyway (a 5xx, a timeout); and before the first attempt when the caller says an
        earlier call may have (``earlier_attempt_since``: the outbox retrying a failed write, or
        one a crashed run left). A message found is taken instead of posting again
        (``WriteResult.adopted``). The look-up reaches a few minutes further back than the first
        attempt, because the hub's clock is not Slack's."""
        message = self._message_body(stream, body)
        thread = message.thread_ts if message.thread_ts and message.thread_ts != message.ts else None
        first = self._clock() if earlier_attempt_since is None else min(self._clock(),
                                                                          earlier_attempt_since.timestamp())
        since = f"{first - EARLIER_ATTEMPT_MARGIN.total_seconds():.6f}"

        async def recover() -> SlackAnswer | None:
            assert idempotency_key is not None
            raw = await self.reader.find_posted(partition, thread, idempotency_key, since)
            if raw is None:
                return None
            return SlackAnswer({"ok": True, "channel": partition, "ts": raw["ts"], "message": raw}, {})

        found = await recover() if idempotency_key and earlier_attempt_since is not None else None
        answer = found or await self.client.write(
            "chat.postMessage", recover=recover if idempotency_key else None, channel=partition,
            text=message.text, thread_ts=thread, metadata=origin_marker(origin, idempotency_key))
        raw = dict(answer.data.get("message") or {})
        raw.setdefault("ts", answer.data["ts"])
        return WriteResult(external_id(str(answer.data["channel"]), str(answer.data["ts"])),
                           message_version(raw), raw, adopted=found is not None)

    async def update(self, stream: str, external: str, body: AnyBody, if_version: str | None,
                     origin: str) -> WriteResult:
        message = self._message_body(stream, body)
        channel, ts = split_external_id(external)
        await self._expect_version(channel, ts, if_version)
        await self.client.write("chat.update", channel=channel, ts=ts, text=message.text,
                                metadata=origin_marker(origin))
        # chat.update answers a partial message: read it back for the version readers will see.
        fresh = await self.reader.one(channel, ts)
        if fresh is None:
            raise RecordNotFound(f"slack message {external} vanished after its update")
        return WriteResult(external, message_version(fresh), fresh)

    async def delete(self, stream: str, external: str, if_version: str | None) -> None:
        self._stream(stream, writable=True)
        channel, ts = split_external_id(external)
        await self._expect_version(channel, ts, if_version)
        await self.client.write("chat.delete", channel=channel, ts=ts)

    async def _expect_version(self, channel: str, ts: str, if_version: str | None) -> None:
        if if_version is None:
            return
        current = await self.reader.one(channel, ts)
        if current is None:
            raise RecordNotFound(f"slack message {channel}:{ts} does not exist")
        if message_version(current) != if_version:
            raise PreconditionFailed(f"slack message {channel}:{ts} changed since version {if_version}")

    # --- webhooks ---------------------------------------------------------------------------
    def verify(self, headers: dict[str, str], body: bytes) -> None:
        self.webhooks.verify(headers, body)

    def parse(self, headers: dict[str, str], body: bytes) -> list[WebhookHint]:
        return self.webhooks.parse(headers, body)

    # --- helpers ----------------------------------------------------------------------------
    def _stream(self, stream: str, writable: bool = False) -> None:
        if stream not in {s.name for s in self.streams} or (writable and stream != "messages"):
            raise ConfigError(f"slack connector {self.name} has no {'writable ' if writable else ''}stream "
                              f"{stream!r}")

    def _message_body(self, stream: str, body: AnyBody) -> Message:
        self._stream(stream, writable=True)
        if not isinstance(body, Message):
            raise ConfigError(f"slack stream {stream!r} takes messages, not {body.kind}")
        return body
