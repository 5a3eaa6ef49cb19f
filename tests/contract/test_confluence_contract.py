"""The connector contract for Confluence pages, against the simulator served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import count
from typing import ClassVar

import pytest
from pydantic import SecretStr

from app.connectors.common import RetryPolicy
from app.connectors.confluence import ConfluenceConnector
from app.models import AnyBody, Document
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.confluence import ConfluenceSimulator
from app.settings import ConfluenceSettings
from contract.connector_contract import WritableConnectorContract


class ConfluenceSource:
    """Changes the wiki the way its users do, through the simulator."""

    def __init__(self, sim: ConfluenceSimulator) -> None:
        self.sim = sim
        self._n = count(1)

    def partition(self) -> str:
        return "CHK"

    def touch(self, partition: str) -> str:
        page = self.sim.pages_in(partition)[3]
        self.sim.edit_page(page.id, body=page.body + "<p>Edited: see CHK-7.</p>", as_member="dev2")
        return page.id

    def add(self, partition: str) -> str:
        return self.sim.create_page(
            f"Daily stand-up extra #{next(self._n)}", "<p>CHK-9</p>", partition, as_member="dev3"
        ).id

    def remove(self, partition: str) -> str:
        page = self.sim.pages_in(partition)[-1]
        self.sim.trash_page(page.id)
        return page.id

    def revoke_token(self) -> None:
        self.sim.revoke_token()

    def new_body(self, partition: str) -> AnyBody:
        return Document(
            title=f"Hub-created page {next(self._n)}",
            space=partition,
            body_storage="<p>Created by the hub about CHK-1.</p>",
        )

    def edited(self, body: AnyBody) -> AnyBody:
        assert isinstance(body, Document)
        return body.model_copy(update={"body_storage": body.body_storage + "<p>Edited by the hub.</p>"})


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def sim() -> ConfluenceSimulator:
    return ConfluenceSimulator()


@pytest.fixture
def served(sim: ConfluenceSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
async def connector(served: ServedApp, sim: ConfluenceSimulator) -> AsyncIterator[ConfluenceConnector]:
    settings = ConfluenceSettings(
        base_url=served.url, email=sim.bot_email, api_token=SecretStr(sim.api_token), spaces=["CHK"]
    )
    async with ConfluenceConnector("confluence", settings, retry_policy=RetryPolicy(sleep=_no_sleep)) as conn:
        yield conn


@pytest.fixture
def source(sim: ConfluenceSimulator) -> ConfluenceSource:
    return ConfluenceSource(sim)


class TestConfluencePagesContract(WritableConnectorContract):
    stream: ClassVar[str] = "pages"
