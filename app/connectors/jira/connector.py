"""The Jira connector: issues (per project) and sprints (per board), read incrementally,
issues written back with an origin marker.

Streams
-------
``issues``  kind ``work_item``, partition = project key, record id = numeric issue id.
``sprints`` kind ``sprint``, partition = board id, record id = sprint id.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import structlog

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
from app.connectors.jira.client import (
    ID_PAGE_SIZE,
    PAGE_SIZE,
    RECONCILE_MAX,
    JiraClient,
    SearchPage,
    UnsupportedJira,
)
from app.connectors.jira.cursor import IssueCursor
from app.connectors.jira.mapping import (
    changed_fields,
    epoch_ms,
    issue_fields,
    issue_to_change,
    parse_jira_time,
    sprint_to_change,
    sprint_version,
    work_item_from_issue,
    work_item_to_fields,
)
from app.connectors.jira.sprints import SprintCursor
from app.connectors.jira.webhooks import parse_delivery, verify_signature
from app.errors import ConfigError, RecordNotFound, SkippableRecord, TransientError
from app.models import AnyBody, RecordKind, Tombstone, WorkItem
from app.settings import JiraSettings

__all__ = ["ORIGIN_PROPERTY", "SEARCH_SETTLE_S", "WRITE_KEY_PROPERTY", "JiraConnector"]

log = structlog.get_logger(__name__)

ORIGIN_PROPERTY = "passerelle.origin"
"""Issue entity property carrying the hub's origin marker (echo suppression)."""

WRITE_KEY_PROPERTY = "passerelle.write"
"""Issue entity property carrying the write key of the create that made the issue (``{"key": ...}``)."""
SEARCH_SETTLE_S = 15.0
"""How long after a create Jira's search may still not list the issue (it is eventually consistent;
``reconcileIssues`` helps only for issue ids one already knows)."""

ISSUES = "issues"
SPRINTS = "sprints"
_READ_PERMISSIONS = ["BROWSE_PROJECTS"]
_WRITE_PERMISSIONS = ["CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES", "ADD_COMMENTS", "DELETE_ISSUES"]


class JiraConnector:
    system = "jira"
    streams: Sequence[StreamSpec] = (
        StreamSpec(ISSUES, RecordKind.WORK_ITEM, partitioned=True),
        StreamSpec(SPRINTS, RecordKind.SPRINT, partitioned=True),
    )
    capabilities = frozenset(
        {
            Capability.READ,
            Capability.INCREMENTAL,
            Capability.CENSUS,
            Capability.WRITE,
            Capability.DELETE,
            Capability.WEBHOOKS,
        }
    )

    def __init__(self, name: str, settings: JiraSettings, policy: RetryPolicy | None = None) -> None:
        self.name = name
        self.settings = settings
        self.client = JiraClient(settings, policy)
        self.overlap_ms = int(settings.overlap_s * 1000)
        self.search_settle_s = SEARCH_SETTLE_S
        self._opened = False

    # --- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.client.close()
        self._opened = False

    async def _open(self) -> None:
        if not self._opened:
            await self.client.open()
            self._opened = True

    async def check(self) -> CheckResult:
        """Credentials (``myself``) and, per project, the permissions reads and writes need."""
        try:
            await self._open()
            me = await self.client.myself()
        except UnsupportedJira as exc:
            return CheckResult(False, str(exc))
        except ConfigError as exc:
            return CheckResult(False, f"Jira refused the credentials of {self.settings.email}: {exc}")
        except TransientError as exc:
            return CheckResult(False, f"Jira is unreachable at {self.client.site_url}: {exc}")
        missing: list[str] = []
        try:
            projects = self.settings.projects or await self.client.project_keys()
            for project in projects:
                try:
                    granted = await self.client.my_permissions(
                        project, _READ_PERMISSIONS + _WRITE_PERMISSIONS
                    )
                except RecordNotFound:
                    missing.append(f"{project}:BROWSE_PROJECTS (project not found or not visible)")
                    continue
                for name, grant in granted.get("permissions", {}).items():
                    if not grant.get("havePermission"):
                        missing.append(f"{project}:{name}")
        except (ConfigError, TransientError) as exc:
            return CheckResult(False, f"could not read project permissions: {exc}")
        user = me.get("displayName") or me.get("accountId")
        if missing:
            return CheckResult(
                False, f"signed in as {user}; missing permissions: {', '.join(missing)}", tuple(missing)
            )
        return CheckResult(True, f"signed in as {user}; projects: {', '.join(projects) or 'none'}")

    async def list_partitions(self, stream: str) -> list[str]:
        self._stream(stream)
        projects = self.settings.projects or await self.client.project_keys()
        if stream == ISSUES:
            return list(projects)
        boards: list[str] = []
        for project in projects:
            boards.extend(str(b["id"]) for b in await self.client.boards(project) if b.get("type") == "scrum")
        return sorted(set(boards), key=int)

    # --- reads -----------------------------------------------------------------------------
    async def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        self._stream(stream)
        if stream == SPRINTS:
            async for page in self._read_sprints(partition, cursor):
                yield page
            return
        state = IssueCursor.load(cursor)
        jql = state.jql(partition, self.overlap_ms)
        fields = issue_fields(self.client.field_ids)

        async def fetch(token: str | None) -> tuple[SearchPage, int]:
            # Its own task: the meter counts this page's request and its retries, nothing else.
            with metered() as meter:
                page = await self.client.search_page(jql, fields, PAGE_SIZE, token)
            return page, meter.calls

        # The next page is asked for as soon as this one's token is known, before this one is
        # mapped: Jira prepares it while the hub maps (the token chain keeps pages in order).
        ahead: asyncio.Task[tuple[SearchPage, int]] | None = asyncio.ensure_future(fetch(None))
        started_ms: int | None = None
        first = True
        try:
            while ahead is not None:
                (result, server_ms), calls = await ahead
                if first:
                    started_ms, first = server_ms, False
                token = result.get("nextPageToken")
                ahead = asyncio.ensure_future(fetch(token)) if token else None
                changes: list[Change] = []
                for raw in result.get("issues", []):
                    updated = epoch_ms(parse_jira_time(raw["fields"]["updated"]))
                    if not state.admit(str(raw["id"]), updated):
                        continue
                    change = self._issue_change(raw)
                    if change is not None:
                        changes.append(change)
                if ahead is None:
                    state.completed(started_ms)
                state.prune(self.overlap_ms)
                yield Page(changes, state.dump(), api_calls=calls)
        finally:
            if ahead is not None:
                # Closed early (a stop, a failure downstream): the page asked for is not wanted.
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)

    async def list_refs(self, stream: str, partition: str) -> AsyncIterator[Sequence[Ref]]:
        """The id-only census: 5000 ids a page, no version (that would cost 50 times the calls)."""
        self._stream(stream)
        if stream == SPRINTS:
            sprints = await self.client.sprints(partition)
            yield [Ref(str(s["id"]), sprint_version(s)) for s in sprints]
            return
        token: str | None = None
        while True:
            result, _ = await self.client.search_page(
                f'project = "{partition}" ORDER BY created ASC', ["id"], ID_PAGE_SIZE, token
            )
            yield [Ref(str(i["id"]), None) for i in result.get("issues", [])]
            token = result.get("nextPageToken")
            if not token:
                return

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        self._stream(stream)
        if stream == SPRINTS:
            return await self._get_sprints(ids)
        wanted = [i for i in dict.fromkeys(ids) if i.isdigit()]
        found: dict[str, Change] = {}
        fields = issue_fields(self.client.field_ids)
        # Asked for by id because something changed (a webhook, a write): reconciled, so that
        # search answers with the issue as it is now, not as its index entry last saw it.
        for start in range(0, len(wanted), RECONCILE_MAX):
            chunk = wanted[start : start + RECONCILE_MAX]
            result, _ = await self.client.search_page(
                f"id in ({', '.join(chunk)})", fields, PAGE_SIZE, None, reconcile=chunk
            )
            for raw in result.get("issues", []):
                change = self._issue_change(raw)
                if change is not None:
                    found[change.external_id] = change
        now = datetime.now(UTC)
        return [found.get(i) or Change(i, None, tombstone=Tombstone(deleted_at=now)) for i in ids]

    # --- writes ----------------------------------------------------------------------------
    async def create(
        self, stream: str, partition: str, body: AnyBody, origin: str, *, idempotency_key: str | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> WriteResult:
        """Create an issue; its origin marker and ``idempotency_key`` go with it, as entity properties.

        Jira has no idempotent create. When the caller says an earlier call may have made the issue
        (``earlier_attempt_since``: the outbox retrying a create that failed, or one a crashed run
        left), the project's issues created since then are searched for the key first, and an issue
        found is taken (``WriteResult.adopted``) and brought to the wanted status. Search lags a
        little behind writes, so the search waits until the earlier attempt is ``search_settle_s``
        old (:data:`SEARCH_SETTLE_S`; a retry soon after a failure is rare and waits once).
        """
        item = self._writable(stream, body)
        found = None
        if idempotency_key is not None and earlier_attempt_since is not None:
            found = await self._created_earlier(partition, idempotency_key, earlier_attempt_since)
        if found is not None:
            issue_id, raw = str(found["id"]), found
        else:
            fields = work_item_to_fields(item, self.client.field_ids, creating=True)
            fields = {k: v for k, v in fields.items() if v is not None and v != []}
            fields["project"] = {"key": partition}
            properties: dict[str, Any] = {ORIGIN_PROPERTY: self._marker(origin)}
            if idempotency_key is not None:
                properties[WRITE_KEY_PROPERTY] = {"key": idempotency_key}
            raw = await self.client.create_issue(fields, properties)
            issue_id = str(raw["id"])
        if item.status:
            await self.client.transition_to(issue_id, item.status)
        version = await self.client.issue_version(issue_id)
        return WriteResult(issue_id, version, raw=raw, adopted=found is not None)

    async def _created_earlier(self, project: str, key: str, since: datetime) -> dict[str, Any] | None:
        """The issue an earlier create with write key ``key`` made in ``project``, if search shows it."""
        age_s = (datetime.now(UTC) - since).total_seconds()
        if age_s < self.search_settle_s:
            await asyncio.sleep(self.search_settle_s - age_s)
            age_s = self.search_settle_s
        # Whole minutes, and a margin for the hub's clock not being Jira's.
        window = math.ceil((age_s + EARLIER_ATTEMPT_MARGIN.total_seconds()) / 60)
        return await self.client.find_created(project, window, WRITE_KEY_PROPERTY,
                                              lambda value: isinstance(value, dict) and value.get("key") == key)

    async def update(
        self, stream: str, external_id: str, body: AnyBody, if_version: str | None, origin: str
    ) -> WriteResult:
        item = self._writable(stream, body)
        ids = self.client.field_ids

        def changes_for(current: dict[str, Any]) -> dict[str, Any]:
            return changed_fields(work_item_from_issue(current, ids), item, ids)

        version, raw = await self.client.edit_issue(
            external_id,
            if_version,
            issue_fields(ids),
            changes_for,
            marker=(ORIGIN_PROPERTY, self._marker(origin)),
        )
        current_status = ((raw.get("fields") or {}).get("status") or {}).get("name")
        if item.status and item.status != current_status:
            await self.client.transition_to(external_id, item.status)
            version = await self.client.issue_version(external_id)
        return WriteResult(external_id, version, raw=raw)

    async def delete(self, stream: str, external_id: str, if_version: str | None) -> None:
        self._writable(stream, None)
        await self.client.delete_issue(external_id, if_version)

    async def add_comment(self, external_id: str, text: str) -> None:
        """Comment on an issue (comments are not records of their own)."""
        await self.client.add_comment(external_id, text)

    # --- webhooks --------------------------------------------------------------------------
    def verify(self, headers: dict[str, str], body: bytes) -> None:
        secret = self.settings.webhook_secret.get_secret_value() if self.settings.webhook_secret else None
        verify_signature(headers, body, secret)

    def parse(self, headers: dict[str, str], body: bytes) -> list[WebhookHint]:
        return parse_delivery(self.name, headers, body)

    # --- internals -------------------------------------------------------------------------
    def _stream(self, stream: str) -> None:
        if stream not in (ISSUES, SPRINTS):
            raise ConfigError(f"jira connector {self.name!r} has no stream {stream!r}")

    def _writable(self, stream: str, body: AnyBody | None) -> WorkItem:
        if stream != ISSUES:
            raise ConfigError(f"jira stream {stream!r} is read-only")
        if body is not None and not isinstance(body, WorkItem):
            raise ConfigError(f"jira issues take work items, not {body.kind}")
        return body if isinstance(body, WorkItem) else WorkItem(key="", title="")

    def _marker(self, origin: str) -> dict[str, Any]:
        return {"origin": origin, "connector": self.name, "at": datetime.now(UTC).isoformat()}

    def _issue_change(self, raw: dict[str, Any]) -> Change | None:
        try:
            return issue_to_change(raw, self.client.field_ids, self.client.site_url)
        except SkippableRecord as exc:
            log.warning("jira.issue_skipped", connector=self.name, issue=raw.get("id"), reason=str(exc))
            return None

    async def _read_sprints(self, board: str, cursor: str | None) -> AsyncIterator[Page]:
        state = SprintCursor.load(cursor)
        with metered() as meter:
            sprints = await self.client.sprints(board)
        changes: list[Change] = []
        now = datetime.now(UTC)
        for sprint_id in state.gone({str(s["id"]) for s in sprints}):
            changes.append(Change(sprint_id, None, tombstone=Tombstone(deleted_at=now)))
        for sprint in sprints:
            if state.admit(str(sprint["id"]), sprint_version(sprint)):
                changes.append(sprint_to_change(sprint, board))
        yield Page(changes, state.dump(), api_calls=meter.calls)

    async def _get_sprints(self, ids: Sequence[str]) -> list[Change]:
        out: list[Change] = []
        now = datetime.now(UTC)
        for sprint_id in ids:
            try:
                raw = await self.client.sprint(sprint_id)
            except RecordNotFound:
                out.append(Change(sprint_id, None, tombstone=Tombstone(deleted_at=now)))
                continue
            out.append(sprint_to_change(raw, str(raw.get("originBoardId") or "")))
        return out
