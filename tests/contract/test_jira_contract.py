"""The Jira connector passes the shared connector contract against the Jira simulator over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from app.connectors.common import RetryPolicy
from app.connectors.jira import JiraConnector
from app.models import AnyBody, WorkItem
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator
from app.sandbox.world import TeamWorld
from app.settings import JiraSettings

from .connector_contract import WritableConnectorContract


class JiraSource:
    """Changes the simulator's data the way a Jira user would."""

    def __init__(self, sim: JiraSimulator) -> None:
        self.sim = sim
        self.edits = 0

    def partition(self) -> str:
        return self.sim.world.project_key

    def touch(self, partition: str) -> str:
        self.edits += 1
        issue = self.sim.edit_issue(f"{partition}-7", summary=f"Edited by a user ({self.edits})")
        return str(issue.id)

    def add(self, partition: str) -> str:
        issue = self.sim.create_issue(partition, {"summary": "Filed by a user", "issuetype": "Bug"})
        return str(issue.id)

    def remove(self, partition: str) -> str:
        issue = self.sim.issue(f"{partition}-8")
        self.sim.delete_issue(issue.key)
        return str(issue.id)

    def revoke_token(self) -> None:
        self.sim.chaos.token_expired = True

    def new_body(self, partition: str) -> AnyBody:
        return WorkItem(
            key="",
            title="Written by the hub",
            description="From the contract suite",
            type="Task",
            status="To Do",
            labels=("contract",),
            project=partition,
        )

    def edited(self, body: AnyBody) -> AnyBody:
        assert isinstance(body, WorkItem)
        return body.model_copy(update={"title": body.title + " (edited)", "status": "In Progress"})


@pytest.fixture
def jira_sim() -> Iterator[tuple[JiraSimulator, ServedApp]]:
    sim = JiraSimulator(TeamWorld(seed=11))
    served = serve_in_thread(sim.app)
    try:
        yield sim, served
    finally:
        served.stop()


@pytest.fixture
async def connector(jira_sim: tuple[JiraSimulator, ServedApp]) -> AsyncIterator[JiraConnector]:
    sim, served = jira_sim
    settings = JiraSettings(
        email=sim.world.member("po").email,
        api_token=SecretStr(DEFAULT_API_TOKEN),
        base_url=served.url,
        projects=[sim.world.project_key],
    )
    async with JiraConnector("jira", settings, RetryPolicy(base_delay_s=0.01, jitter_s=0.01)) as conn:
        yield conn


@pytest.fixture
def source(jira_sim: tuple[JiraSimulator, ServedApp]) -> JiraSource:
    return JiraSource(jira_sim[0])


class TestJiraIssuesContract(WritableConnectorContract):
    stream = "issues"
