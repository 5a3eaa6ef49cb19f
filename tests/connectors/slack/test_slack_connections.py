"""The Slack client keeps its connections open: a full read's many calls share a few of them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from app.connectors.common import RetryPolicy
from app.connectors.slack import SlackConnector
from app.errors import TransientError
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator
from app.sandbox.slack.driver import SlackSourceDriver
from app.settings import SlackSettings

Scope = dict[str, Any]


class ConnectionLog:
    """ASGI middleware noting the client address (one per TCP connection) of every API request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.clients: list[tuple[str, int]] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            self.clients.append(tuple(scope["client"]))
        await self.app(scope, receive, send)


@pytest.fixture
def sim() -> SlackSimulator:
    return SlackSimulator(rate_limits=RateLimits(enabled=False))


@pytest.fixture
def logged(sim: SlackSimulator) -> Iterator[tuple[ConnectionLog, ServedApp]]:
    log = ConnectionLog(sim.app)
    served = serve_in_thread(log)
    try:
        yield log, served
    finally:
        served.stop()


async def test_a_full_read_reuses_a_few_connections_for_all_its_calls(
    sim: SlackSimulator, logged: tuple[ConnectionLog, ServedApp]
) -> None:
    log, served = logged
    driver = SlackSourceDriver(sim)
    channel = driver.partition()
    for n in range(30):  # 30 threads: a full read asks for the replies of each
        parent = driver.add(channel).partition(":")[2]
        driver.reply(channel, parent, f"answer {n}")
    settings = SlackSettings(bot_token=SecretStr(DEFAULT_BOT_TOKEN), base_url=served.url, max_concurrency=4)
    async with SlackConnector("slack", settings) as connector:
        async for _ in connector.read_changes("messages", channel, None):
            pass
    assert len(log.clients) > 30
    assert len(set(log.clients)) <= settings.max_concurrency


async def test_the_client_works_again_in_a_new_event_loop_after_one_closed(
    sim: SlackSimulator, logged: tuple[ConnectionLog, ServedApp]
) -> None:
    # The CLI and the tests may drive one connector from successive event loops; an aiohttp
    # session belongs to the loop that opened it.
    _, served = logged
    settings = SlackSettings(bot_token=SecretStr(DEFAULT_BOT_TOKEN), base_url=served.url)
    async with SlackConnector("slack", settings) as connector:
        first = await connector.check()

        def in_another_loop() -> bool:
            return asyncio.run(connector.check()).ok

        assert first.ok
        assert await asyncio.to_thread(in_another_loop)


def _quick_retries() -> RetryPolicy:
    return RetryPolicy(max_attempts=2, base_delay_s=0.01, jitter_s=0.0)


async def test_a_refused_connection_is_a_transient_error_after_the_retries() -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = SlackSettings(bot_token=SecretStr(DEFAULT_BOT_TOKEN), base_url=f"http://127.0.0.1:{port}")
    async with SlackConnector("slack", settings, retry_policy=_quick_retries()) as connector:
        with pytest.raises(TransientError, match=r"slack auth\.test"):
            await connector.client.call("auth.test")
        assert connector.client.calls == 2


async def test_an_answer_slower_than_the_timeout_is_a_transient_error() -> None:
    # A server that accepts and never answers: the session's timeout ends each attempt.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        await asyncio.sleep(60)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = SlackSettings(bot_token=SecretStr(DEFAULT_BOT_TOKEN), base_url=f"http://127.0.0.1:{port}",
                             timeout_s=0.2)
    try:
        async with SlackConnector("slack", settings, retry_policy=_quick_retries()) as connector:
            with pytest.raises(TransientError, match=r"slack auth\.test"):
                # Without the session's timeout the call would wait for the server (60 s).
                await asyncio.wait_for(connector.client.call("auth.test"), timeout=20)
    finally:
        server.close()
        await server.wait_closed()
