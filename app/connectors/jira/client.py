"""The Jira calls the connector makes, through the ``jira`` SDK, each mapped and retried.

The SDK is blocking: every call runs in a worker thread (``BlockingCalls``, bounded by
``max_concurrency``) inside ``with_retries``. The SDK's own retry loop is switched off
(``max_retries=0``) so that 429s are paced in one place, by ``Retry-After``.
``calls`` counts SDK calls, retries included, for ``Page.api_calls``.
"""

from __future__ import annotations

import dataclasses
import email.utils
import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import orjson

from app.connectors.common import BlockingCalls, RetryPolicy, with_retries
from app.connectors.jira.errors import from_jira_error, is_vendor_failure
from app.connectors.jira.mapping import FieldIds
from app.errors import ConfigError, PreconditionFailed
from app.settings import JiraSettings
from jira import JIRA, JIRAError
from jira.resilientsession import raise_on_error

__all__ = ["ID_PAGE_SIZE", "PAGE_SIZE", "RECONCILE_MAX", "JiraClient", "SearchPage", "UnsupportedJira"]

T = TypeVar("T")

PAGE_SIZE = 100
"""Largest page ``search/jql`` returns when fields are asked for."""
ID_PAGE_SIZE = 5000
"""Largest page ``search/jql`` returns when only ids are asked for."""
RECONCILE_MAX = 50
"""Most issue ids ``search/jql`` takes in ``reconcileIssues`` (read-after-write consistency)."""


class UnsupportedJira(ConfigError):
    """The site is not Jira Cloud (Data Center or Server)."""


class SearchPage(NamedTuple):
    body: dict[str, Any]
    server_ms: int | None
    """Jira's clock when it answered (the HTTP ``Date``, whole seconds), when it said."""


class JiraClient:
    def __init__(self, settings: JiraSettings, policy: RetryPolicy | None = None) -> None:
        if not settings.base_url:
            raise ConfigError("jira: base_url is required (https://<site>.atlassian.net)")
        self.settings = settings
        self.site_url = settings.base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._blocking = BlockingCalls(settings.max_concurrency)
        self._jira: JIRA | None = None
        self.field_ids = FieldIds()

    @property
    def calls(self) -> int:
        return self._blocking.calls

    # --- plumbing --------------------------------------------------------------------------
    async def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._retrying(what, functools.partial(fn, *args, **kwargs), self.policy)

    async def _retrying(self, what: str, fn: Callable[[], T], policy: RetryPolicy) -> T:
        guarded = _mapped(what, fn)

        async def attempt() -> T:
            return await self._blocking.run(guarded)

        return await with_retries(attempt, policy, what=f"jira {what}")

    @property
    def sdk(self) -> JIRA:
        if self._jira is None:
            raise RuntimeError("JiraClient used before open()")
        return self._jira

    def _build(self) -> JIRA:
        options: dict[str, Any] = {"verify": str(self.settings.ca_file) if self.settings.ca_file else True}
        token = self.settings.api_token.get_secret_value()
        # Building the client calls serverInfo: a bad URL or refused credentials fail here.
        return JIRA(
            server=self.site_url,
            basic_auth=(self.settings.email, token),
            options=options,
            max_retries=0,
            timeout=self.settings.timeout_s,
        )

    async def open(self) -> None:
        """Connect (serverInfo) and learn the site's custom field ids (GET /field).

        Only Jira Cloud is read: the connector pages through the enhanced search
        (``/rest/api/3/search/jql``), which Data Center and Server do not have. Any other
        deployment is :class:`UnsupportedJira`, a configuration error, before anything is read.
        """
        if self._jira is None:
            jira = await self._call("connect", self._build)
            if not jira._is_cloud:
                jira.close()  # type: ignore[no-untyped-call]
                raise UnsupportedJira(
                    f"jira at {self.site_url} is a {jira.deploymentType or 'non-Cloud'} deployment; "
                    "the connector reads Jira Cloud only (its enhanced search, /rest/api/3/search/jql)"
                )
            self._jira = jira
        catalogue: list[dict[str, Any]] = await self._call("fields", self.sdk.fields)
        self.field_ids = FieldIds.from_catalogue(catalogue)
        # The SDK translates JQL clause names in `fields` through its own GET /field cache;
        # priming it from the catalogue we already hold saves that second request.
        if hasattr(self.sdk, "_fields_cache_value"):
            self.sdk._fields_cache_value = {
                name: f["id"] for f in catalogue for name in f.get("clauseNames", [])
            }

    def close(self) -> None:
        if self._jira is not None:
            self._jira.close()  # type: ignore[no-untyped-call]
            self._jira = None

    # --- reads -----------------------------------------------------------------------------
    async def myself(self) -> dict[str, Any]:
        return await self._call("myself", self.sdk.myself)

    async def my_permissions(self, project: str, permissions: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "mypermissions", self.sdk.my_permissions, projectKey=project, permissions=",".join(permissions)
        )
        return result

    async def project_keys(self) -> list[str]:
        projects = await self._call("projects", self.sdk.projects)
        return [str(p.key) for p in projects]

    async def search_page(
        self,
        jql: str,
        fields: list[str],
        max_results: int,
        token: str | None,
        reconcile: Sequence[str] = (),
    ) -> SearchPage:
        """One page of the enhanced search (POST, so long ``id in (...)`` lists fit).

        Search is eventually consistent: an issue changed a moment ago may be missing or stale.
        The ids in ``reconcile`` (at most ``RECONCILE_MAX``) are answered as they are now."""
        if len(reconcile) > RECONCILE_MAX:
            raise ValueError(f"jira reconciles at most {RECONCILE_MAX} issues a search, not {len(reconcile)}")
        return await self._call(
            "search", _search_jql, self.sdk, jql, list(fields), max_results, token, [int(i) for i in reconcile]
        )

    async def issue_version(self, issue_id: str) -> str | None:
        issue = await self._call("get issue", self.sdk.issue, issue_id, fields="updated")
        return getattr(issue.fields, "updated", None)

    async def boards(self, project: str | None) -> list[dict[str, Any]]:
        boards = await self._call("boards", self.sdk.boards, maxResults=False, projectKeyOrID=project)
        return [b.raw for b in boards]

    async def sprints(self, board_id: str) -> list[dict[str, Any]]:
        sprints = await self._call("sprints", self.sdk.sprints, int(board_id), maxResults=False)
        return [s.raw for s in sprints]

    async def sprint(self, sprint_id: str) -> dict[str, Any]:
        sprint = await self._call("sprint", self.sdk.sprint, int(sprint_id))
        return dict(sprint.raw)

    # --- writes ----------------------------------------------------------------------------
    async def create_issue(self, fields: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
        """POST /issue with its entity ``properties`` (set with the issue, before any webhook tells of
        it); returns ``{"id", "key"}``.

        A create has no idempotency key: it is retried only when paced (429 means not done),
        never after a 5xx or a timeout, which may have created the issue (see
        :meth:`find_created`).
        """

        def create() -> dict[str, Any]:
            # The SDK's ``create_issue`` posts ``fields`` only; the same request through its session.
            data = {"fields": fields, "properties": [{"key": k, "value": v} for k, v in properties.items()]}
            url = self.sdk._get_url("issue")
            response = self.sdk._session.post(url, data=orjson.dumps(data))
            raise_on_error(response)
            created: dict[str, Any] = orjson.loads(response.content) if response.content else {}
            if "key" not in created:
                raise JIRAError(status_code=response.status_code, response=response, url=url,
                                text="the create answered no issue key")
            return created

        return await self._retrying("create issue", create, dataclasses.replace(self.policy, max_attempts=1))

    async def find_created(self, project: str, since_minutes: int, property_key: str,
                           wanted: Callable[[Any], bool]) -> dict[str, Any] | None:
        """The issue of ``project`` created in the last ``since_minutes`` whose entity property
        ``property_key`` satisfies ``wanted``, newest first; None when there is none.

        Jira cannot search a property's value for a self-hosted client (properties are indexed
        for Connect and Forge apps only), so the issues created in the window are listed with
        the property and compared here. A relative date (``-Nm``) needs no time zone. Search is
        eventually consistent: an issue created a few seconds ago may not be listed yet.
        """
        jql = f'project = "{project}" AND created >= "-{since_minutes}m" ORDER BY created DESC'
        token: str | None = None
        while True:
            page = await self._call("search", _search_jql, self.sdk, jql, ["updated"], PAGE_SIZE, token, [],
                                    [property_key])
            for issue in page.body.get("issues") or []:
                if property_key in (issue.get("properties") or {}) and wanted(issue["properties"][property_key]):
                    return dict(issue)
            token = page.body.get("nextPageToken")
            if not token:
                return None

    async def edit_issue(
        self,
        issue_id: str,
        if_version: str | None,
        read_fields: list[str],
        changes_for: Callable[[dict[str, Any]], dict[str, Any]],
        marker: tuple[str, Any] | None = None,
    ) -> tuple[str | None, dict[str, Any]]:
        """Read the issue, check its version, set ``marker`` (an entity property), PUT the fields
        ``changes_for(current issue JSON)`` asks for. Returns the new ``updated`` and the issue JSON.

        The marker goes first so that whoever sees the change also sees where it came from;
        setting a property does not move ``updated``.
        """

        def edit() -> tuple[str | None, dict[str, Any]]:
            issue = self.sdk.issue(issue_id, fields=",".join(read_fields))
            current = issue.raw.get("fields", {}).get("updated")
            if if_version is not None and current != if_version:
                raise PreconditionFailed(f"jira issue {issue_id} is at version {current}, not {if_version}")
            if marker is not None:
                self.sdk.add_issue_property(issue_id, marker[0], marker[1])
            fields = changes_for(issue.raw)
            if fields:
                issue.update(fields=fields)  # the SDK reloads the issue afterwards
            return issue.raw.get("fields", {}).get("updated"), dict(issue.raw)

        return await self._call("edit issue", edit)

    async def check_version(self, issue_id: str, if_version: str | None) -> None:
        if if_version is None:
            return
        current = await self.issue_version(issue_id)
        if current != if_version:
            raise PreconditionFailed(f"jira issue {issue_id} is at version {current}, not {if_version}")

    async def transition_to(self, issue_id: str, status: str) -> bool:
        """Move the issue to the status named ``status``; False when it is already there."""

        def transition() -> bool:
            current = self.sdk.issue(issue_id, fields="status")
            if current.fields.status.name == status:
                return False
            options = self.sdk.transitions(issue_id)
            match = next((t for t in options if t.get("to", {}).get("name") == status), None)
            if match is None:
                names = sorted({t.get("to", {}).get("name") for t in options})
                raise ConfigError(
                    f"jira issue {issue_id}: no transition to status {status!r} (open: {names})"
                )
            self.sdk.transition_issue(issue_id, match["id"])
            return True

        return await self._call("transition", transition)

    async def add_comment(self, issue_id: str, body: str) -> None:
        await self._call("add comment", self.sdk.add_comment, issue_id, body)

    async def delete_issue(self, issue_id: str, if_version: str | None) -> None:
        def delete() -> None:
            issue = self.sdk.issue(issue_id, fields="updated")
            current = getattr(issue.fields, "updated", None)
            if if_version is not None and current != if_version:
                raise PreconditionFailed(f"jira issue {issue_id} is at version {current}, not {if_version}")
            issue.delete()  # type: ignore[no-untyped-call]

        await self._call("delete issue", delete)


def _search_jql(
    sdk: JIRA, jql: str, fields: list[str], max_results: int, token: str | None, reconcile: list[int],
    properties: Sequence[str] = (),
) -> SearchPage:
    """``sdk.enhanced_search_issues(jql, ..., json_result=True, use_post=True)``, decoded with orjson.

    The same request through the SDK's session (auth, timeouts, ``JIRAError`` on a failure, JQL
    clause names in ``fields`` translated through its field cache), but a page of 100 issues is
    ~375 kB of JSON, and decoding it with the standard library was the largest single cost of a
    full read after the store's writes (about a tenth of the process's time holding the GIL).
    """
    clause_ids = sdk._fields_cache
    params: dict[str, Any] = {
        "jql": jql,
        "fields": [clause_ids.get(f, f) for f in fields],
        "expand": None,
        "properties": list(properties) or None,
        "reconcileIssues": reconcile,
        "maxResults": max_results,
    }
    if token:
        params["nextPageToken"] = token
    response = sdk._session.post(sdk._get_url("search/jql"), data=orjson.dumps(params))
    raise_on_error(response)
    # An empty body is an empty answer, as the SDK's ``json_loads`` reads it.
    body = orjson.loads(response.content) if response.content else {}
    return SearchPage(body, _server_ms(response.headers.get("Date")))


def _server_ms(date: str | None) -> int | None:
    """Epoch ms of an HTTP ``Date`` header; None when it is missing or unreadable."""
    if not date:
        return None
    try:
        when = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return None
    # "-0000" parses to a naive time: RFC 5322 says the zone is unknown then.
    return int(when.timestamp() * 1000) if when.tzinfo is not None else None


def _mapped(what: str, fn: Callable[[], T]) -> Callable[[], T]:
    def guarded() -> T:
        try:
            return fn()
        except Exception as exc:
            if is_vendor_failure(exc):
                raise from_jira_error(exc, what) from exc
            raise

    return guarded
