"""Ground truth of the Jira and Confluence simulators, mapped with the connectors' own functions.

Each item is rendered by the simulator's renderer exactly as the API the connector reads
answers it (Jira REST v2 search with the mapped fields, the agile sprint listing,
Confluence v2 page listings with the storage body), then mapped by the connector's pure
mapping. Labels, which the Confluence connector looks up through a v1 CQL search, come
from the page's own state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from app.connectors.confluence.connector import ConfluenceConnector
from app.connectors.confluence.mapping import page_to_change
from app.connectors.jira.connector import JiraConnector
from app.connectors.jira.mapping import (
    FieldIds,
    issue_fields,
    issue_to_change,
    sprint_to_change,
)
from app.sandbox.confluence.render import V2
from app.sandbox.confluence.simulator import ConfluenceSimulator
from app.sandbox.jira.model import FIELD_CATALOGUE
from app.sandbox.jira.simulator import JiraSimulator
from app.sandbox.truth.model import TruthRecord

__all__ = ["confluence_truth", "jira_truth"]


def jira_truth(sim: JiraSimulator, connector: JiraConnector) -> Iterator[TruthRecord]:
    """Issues of the projects in scope (stream ``issues``) and sprints of their scrum boards (``sprints``)."""
    with sim.lock:
        projects = list(connector.settings.projects or sim.store.projects)
        ids = FieldIds.from_catalogue(FIELD_CATALOGUE)
        fields = issue_fields(ids)
        for issue in sim.store.issues.values():
            if issue.project_key not in projects:
                continue
            raw = sim.render.issue(issue, fields, api=2)
            yield TruthRecord.of(
                connector.name,
                "issues",
                issue.project_key,
                issue_to_change(raw, ids, connector.client.site_url),
            )
        boards = {b.id for b in sim.store.boards.values() if b.type == "scrum" and b.project_key in projects}
        for sprint in sim.store.sprints.values():
            if sprint.board_id not in boards:
                continue
            change = sprint_to_change(sim.render.sprint(sprint), str(sprint.board_id))
            yield TruthRecord.of(connector.name, "sprints", str(sprint.board_id), change)


def confluence_truth(sim: ConfluenceSimulator, connector: ConfluenceConnector) -> Iterator[TruthRecord]:
    """Current pages of the spaces in scope; trashed, archived and purged pages are not live."""
    with sim.lock:
        wiki = sim.wiki
        current = {s.key for s in wiki.spaces.values() if s.status == "current"}
        keys = set(connector.settings.spaces) or current
        space_keys = {s.id: s.key for s in wiki.spaces.values() if s.key in keys}
        render = V2(wiki.spaces, "")
        now = datetime.now(UTC)
        for page in wiki.pages.values():
            key = space_keys.get(page.space_id)
            if key is None or page.status != "current":
                continue
            raw = render.page(page, "storage")
            change = page_to_change(raw, key, list(page.labels), connector.client.site_url, now)
            yield TruthRecord.of(connector.name, "pages", key, change)
