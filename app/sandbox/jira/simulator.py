"""The Jira Cloud simulator: seeded state, a mutation API for tests, and every route installed.

Mutations (``create_issue``, ``edit_issue``, ``transition_issue``, ``delete_issue``,
``move_issue``, ``add_comment``, ...) act as a user would: they bump ``updated``, write the
changelog and fire webhooks. REST routes and ``/_sandbox`` admin routes call them too.
"""

from __future__ import annotations

import base64
import binascii
import time as _time
from collections import deque
from collections.abc import Sequence
from typing import Any

from fastapi import Request, Response

from app.sandbox.common.simulator import Simulator
from app.sandbox.jira.errors import JiraApiError, error_response
from app.sandbox.jira.jql_eval import compile_query
from app.sandbox.jira.jql_parse import JqlError, parse
from app.sandbox.jira.model import SPRINT_FIELD, STATUSES, Comment, Issue, Project, Webhook
from app.sandbox.jira.render import Renderer
from app.sandbox.jira.seed import seed_store
from app.sandbox.jira.store import JiraStore
from app.sandbox.jira.webhooks import build_delivery, event_payload
from app.sandbox.world import TeamWorld

__all__ = ["DEFAULT_API_TOKEN", "JiraSimulator"]

DEFAULT_API_TOKEN = "sandbox-jira-api-token"
_WEBHOOK_LIFETIME_MS = 30 * 86_400_000


class JiraSimulator(Simulator):
    vendor = "jira"

    def __init__(
        self,
        world: TeamWorld | None = None,
        *,
        base_url: str | None = None,
        api_token: str = DEFAULT_API_TOKEN,
        email: str | None = None,
        webhook_retry_delays_s: Sequence[float] = (1.0, 5.0, 30.0, 60.0, 120.0),
    ) -> None:
        # Links (``self``) point at ``base_url``; by default at the address clients reach us on,
        # because the jira SDK follows ``self`` links for edits and deletes.
        self.fixed_base_url = base_url
        self.base_url = base_url or "https://orbit.atlassian.net"
        self.webhook_retry_delays_s = tuple(webhook_retry_delays_s)
        self.store = JiraStore()
        world = world or TeamWorld()
        self.credentials = {(email or world.member("po").email): api_token}
        self.seed_seconds = 0.0
        self.search_log: deque[dict[str, Any]] = deque(maxlen=10_000)
        """Every search as asked (jql, maxResults, fields): the request log holds no POST bodies."""
        self.index_lag_ms = 0
        self.deployment_type = "Cloud"
        """``serverInfo``'s ``deploymentType`` ("Server" or "DataCenter" for a self-managed site)."""
        """How long a changed issue stays missing from ``search/jql`` (0: search is current)."""
        self.denied_permissions: set[str] = set()
        """Project permissions ``mypermissions`` reports as missing (to test ``check()``)."""
        super().__init__(world)
        from app.sandbox.jira.routes import install_routes

        install_routes(self)

    # --- Simulator hooks -------------------------------------------------------------------
    def reset(self) -> None:
        started = _time.perf_counter()
        self.store = JiraStore()
        seed_store(self.world, self.store)
        self.users = {
            m.jira_account_id: {"displayName": m.name, "emailAddress": m.email} for m in self.world.members
        }
        self.emails = {m.email: m.jira_account_id for m in self.world.members}
        self.render = Renderer(self.store, self.base_url, self.world.tz, self.users)
        self.seed_seconds = _time.perf_counter() - started

    def error_body(self, status: int, message: str) -> Response:
        return error_response(status, [message])

    def unauthenticated(self) -> Response:
        return error_response(
            401,
            ["Client must be authenticated to access this resource."],
            headers={"WWW-Authenticate": 'Basic realm="protected-area"'},
        )

    def observe_base_url(self, request: Request) -> None:
        if self.fixed_base_url is None:
            self.base_url = self.render.base = str(request.base_url).rstrip("/")

    # --- authentication --------------------------------------------------------------------
    def authenticate(self, request: Request) -> str:
        """The caller's account id; raises 401 for a missing or wrong ``email:api_token``."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                email, _, token = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, token = "", ""
            if email in self.credentials and self.credentials[email] == token:
                return self.emails.get(email, self.world.member("po").jira_account_id)
        raise JiraApiError(
            401,
            "Client must be authenticated to access this resource.",
            headers={"WWW-Authenticate": 'Basic realm="protected-area"'},
        )

    # --- reads used by routes --------------------------------------------------------------
    def issue(self, id_or_key: str) -> Issue:
        issue = self.store.find(id_or_key)
        if issue is None:
            raise JiraApiError(404, "Issue does not exist or you do not have permission to see it.")
        return issue

    def plan(self, jql: str, me: str) -> Any:
        try:
            return compile_query(parse(jql), self.store, self.world.tz, me)
        except JqlError as exc:
            raise JiraApiError(400, str(exc)) from exc

    # --- mutations (thread-safe, fire webhooks) --------------------------------------------
    @property
    def default_actor(self) -> str:
        return self.world.member("po").jira_account_id

    def create_issue(self, project_key: str, fields: dict[str, Any], actor: str | None = None,
                     properties: dict[str, Any] | None = None) -> Issue:
        """Create an issue from canonical field values (``summary``, ``issuetype`` name, ...) with its
        entity ``properties``, set before anyone is told of the issue."""
        with self.lock:
            project = self.store.project(project_key)
            if project is None:
                raise JiraApiError(400, errors={"project": "valid project is required"})
            actor = actor or self.default_actor
            stamp = self.store.tick()
            values: dict[str, Any] = {
                "summary": "",
                "description": "",
                "issuetype": "Task",
                "status": "To Do",
                "priority": "Medium",
                "assignee": None,
                "reporter": actor,
                "labels": [],
                "duedate": None,
                "parent": None,
                SPRINT_FIELD: [],
            }
            values.update(fields)
            issue = Issue(
                self.store.next_issue_id,
                f"{project.key}-{project.next_number}",
                project.key,
                stamp,
                stamp,
                values,
            )
            project.next_number += 1
            issue.properties.update(properties or {})
            self.store.add(issue)
            self._fire("jira:issue_created", issue, actor)
            return issue

    def edit_issue(self, id_or_key: str, actor: str | None = None, **fields: Any) -> Issue:
        """Set canonical field values; records the changelog and bumps ``updated``."""
        with self.lock:
            issue = self.issue(id_or_key)
            actor = actor or self.default_actor
            items = []
            for fid, value in fields.items():
                old = issue.fields.get(fid)
                if old != value:
                    items.append(
                        {
                            "field": fid,
                            "fieldtype": "custom" if fid.startswith("customfield_") else "jira",
                            "fieldId": fid,
                            "from": None,
                            "fromString": _text(old),
                            "to": None,
                            "toString": _text(value),
                        }
                    )
                    issue.fields[fid] = value
            if items:
                stamp = self.store.touch(issue)
                self.store.record_history(issue, actor, stamp, items)
                self._fire("jira:issue_updated", issue, actor, changelog=items)
            return issue

    def transition_issue(self, id_or_key: str, status: str, actor: str | None = None) -> Issue:
        with self.lock:
            if status not in STATUSES:
                raise JiraApiError(400, f"Status '{status}' does not exist.")
            issue = self.issue(id_or_key)
            old = issue.fields["status"]
            if old == status:
                return issue
            actor = actor or self.default_actor
            issue.fields["status"] = status
            stamp = self.store.touch(issue)
            issue.resolution_ms = stamp if STATUSES[status].category_key == "done" else None
            items = [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": STATUSES[old].id,
                    "fromString": old,
                    "to": STATUSES[status].id,
                    "toString": status,
                }
            ]
            self.store.record_history(issue, actor, stamp, items)
            self._fire("jira:issue_updated", issue, actor, changelog=items)
            return issue

    def delete_issue(self, id_or_key: str, actor: str | None = None) -> None:
        with self.lock:
            issue = self.issue(id_or_key)
            self.store.remove(issue)
            self._fire("jira:issue_deleted", issue, actor or self.default_actor)

    def move_issue(self, id_or_key: str, project_key: str, actor: str | None = None) -> Issue:
        """Move to another project: same id, new key (the old key still resolves)."""
        with self.lock:
            issue = self.issue(id_or_key)
            target = self.store.project(project_key)
            if target is None:
                raise JiraApiError(400, errors={"project": "valid project is required"})
            old_key = issue.key
            self.store.rekey(issue, f"{target.key}-{target.next_number}", target.key)
            target.next_number += 1
            stamp = self.store.touch(issue)
            items = [
                {
                    "field": "Key",
                    "fieldtype": "jira",
                    "fieldId": "issuekey",
                    "from": None,
                    "fromString": old_key,
                    "to": None,
                    "toString": issue.key,
                },
                {
                    "field": "project",
                    "fieldtype": "jira",
                    "fieldId": "project",
                    "from": None,
                    "fromString": old_key.rsplit("-", 1)[0],
                    "to": target.id,
                    "toString": target.key,
                },
            ]
            self.store.record_history(issue, actor or self.default_actor, stamp, items)
            self._fire("jira:issue_updated", issue, actor or self.default_actor, changelog=items)
            return issue

    def add_project(self, key: str, name: str) -> Project:
        with self.lock:
            project = Project(str(10000 + len(self.store.projects)), key, name, self.default_actor)
            self.store.projects[key] = project
            return project

    def add_comment(self, id_or_key: str, body: str, actor: str | None = None) -> Comment:
        with self.lock:
            issue = self.issue(id_or_key)
            actor = actor or self.default_actor
            stamp = self.store.touch(issue)
            comment = self.store.new_comment(actor, body, stamp)
            issue.comments.append(comment)
            self._fire("comment_created", issue, actor, comment=comment)
            return comment

    def edit_comment(self, id_or_key: str, comment_id: str, body: str, actor: str | None = None) -> Comment:
        with self.lock:
            issue = self.issue(id_or_key)
            comment = self._comment(issue, comment_id)
            comment.body = body
            comment.updated_ms = self.store.touch(issue)
            self._fire("comment_updated", issue, actor or self.default_actor, comment=comment)
            return comment

    def delete_comment(self, id_or_key: str, comment_id: str, actor: str | None = None) -> None:
        with self.lock:
            issue = self.issue(id_or_key)
            comment = self._comment(issue, comment_id)
            issue.comments.remove(comment)
            self.store.touch(issue)
            self._fire("comment_deleted", issue, actor or self.default_actor, comment=comment)

    def set_property(self, id_or_key: str, key: str, value: Any) -> bool:
        """Set an issue entity property; True when it is new. Does not bump ``updated`` (as in Jira)."""
        with self.lock:
            issue = self.issue(id_or_key)
            created = key not in issue.properties
            issue.properties[key] = value
            return created

    def delete_property(self, id_or_key: str, key: str) -> None:
        with self.lock:
            issue = self.issue(id_or_key)
            if key not in issue.properties:
                raise JiraApiError(404, f"The property with key '{key}' does not exist.")
            del issue.properties[key]

    def register_webhook(
        self,
        url: str,
        events: list[str],
        jql_filter: str = "",
        secret: str | None = None,
        expires: bool = False,
        field_ids_filter: list[str] | None = None,
    ) -> Webhook:
        with self.lock:
            hook = Webhook(
                self.store.next_webhook_id,
                url,
                list(events),
                jql_filter,
                secret,
                self.store.tick() + _WEBHOOK_LIFETIME_MS if expires else None,
                list(field_ids_filter or []),
            )
            self.store.next_webhook_id += 1
            self.store.webhooks[hook.id] = hook
            return hook

    # --- internals -------------------------------------------------------------------------
    def _comment(self, issue: Issue, comment_id: str) -> Comment:
        for comment in issue.comments:
            if comment.id == comment_id:
                return comment
        raise JiraApiError(404, "Can not find a comment for the id: " + comment_id + ".")

    def _fire(
        self,
        event: str,
        issue: Issue,
        actor: str,
        changelog: list[dict[str, Any]] | None = None,
        comment: Comment | None = None,
    ) -> None:
        hooks = [
            h
            for h in self.store.webhooks.values()
            if event in h.events and self._hook_matches(h, issue, event)
        ]
        if not hooks:
            return
        payload = event_payload(self.render, event, issue, actor, self.store.last_ms, changelog, comment)
        for hook in hooks:
            self.webhooks.send(build_delivery(hook, event, payload, self.webhook_retry_delays_s))

    def _hook_matches(self, hook: Webhook, issue: Issue, event: str) -> bool:
        if hook.expires_ms is not None and hook.expires_ms < self.store.last_ms:
            return False
        if not hook.jql_filter:
            return True
        try:
            return bool(self.plan(hook.jql_filter, self.default_actor).predicate(issue))
        except JiraApiError:
            return False


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
