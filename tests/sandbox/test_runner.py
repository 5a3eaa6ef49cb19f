"""The sandbox runner: every simulator up on its port, health, HTTPS with the generated CA, activity."""

from __future__ import annotations

import contextlib
import random
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.sandbox.runner import VENDORS, Sandbox, build_parser, run_sandbox, start_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox(base_port=0)
    yield running
    running.stop()


def test_every_simulator_starts_and_answers_health(sandbox: Sandbox) -> None:
    assert sandbox.missing == {}
    assert set(sandbox.urls) == {vendor for vendor, _, _ in VENDORS}
    for vendor, url in sandbox.urls.items():
        health = httpx.get(f"{url}/_sandbox/health")
        assert health.status_code == 200, vendor
        assert health.json()["ok"] is True
        assert health.json()["seed"] == 1
    assert len({sim.world.anchor for sim in sandbox.simulators.values()}) == 1


def _free_base(offsets: tuple[int, ...]) -> int:
    """A base port whose offsets can all be bound now, below Linux's ephemeral range (32768+)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 32_000)
        try:
            with contextlib.ExitStack() as stack:
                for offset in offsets:
                    sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise AssertionError("no free base port found")


def test_ports_follow_the_base_port_offsets() -> None:
    base = _free_base((3, 5))
    running = start_sandbox(base_port=base, vendors=["slack", "graph"])
    try:
        assert running.urls == {
            "slack": f"http://127.0.0.1:{base + 3}",
            "graph": f"http://127.0.0.1:{base + 5}",
        }
    finally:
        running.stop()


def test_tls_mode_serves_https_that_the_generated_ca_verifies(tmp_path: Path) -> None:
    running = start_sandbox(base_port=0, tls=True, cert_dir=tmp_path, vendors=["graph", "jira"])
    try:
        assert running.ca_file == tmp_path / "ca.pem"
        for url in running.urls.values():
            assert url.startswith("https://127.0.0.1:")
            assert httpx.get(f"{url}/_sandbox/health", verify=str(running.ca_file)).status_code == 200
            with pytest.raises(httpx.ConnectError):  # not trusted without the CA
                httpx.get(f"{url}/_sandbox/health", verify=ssl.create_default_context())
        localhost = running.urls["graph"].replace("127.0.0.1", "localhost")
        assert httpx.get(f"{localhost}/_sandbox/health", verify=str(running.ca_file)).status_code == 200
    finally:
        running.stop()


def test_a_missing_simulator_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.sandbox.runner as runner

    monkeypatch.setattr(
        runner, "VENDORS", (*VENDORS[:1], ("trello", "app.sandbox.trello:TrelloSimulator", 6))
    )
    running = start_sandbox(base_port=0)
    try:
        assert set(running.urls) == {"jira"}
        assert "app.sandbox.trello" in running.missing["trello"]
        assert "NOT RUNNING" in running.describe()
    finally:
        running.stop()


def test_team_activity_changes_every_tool_without_errors() -> None:
    running = start_sandbox(base_port=0, activity=True, activity_interval_s=3600)
    try:
        assert running.activity is not None
        assert {vendor for vendor, _ in running.activity.actions} == set(running.urls)
        for _ in range(40):
            running.activity.step()
        done = list(running.activity.done)
        assert [d for d in done if not d["ok"]] == []
        assert {d["vendor"] for d in done} == set(running.urls)
    finally:
        running.stop()


def test_run_sandbox_serves_until_stopped_and_the_cli_parses_its_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(
        ["--base-port", "0", "--tls", "--seed", "7", "--scale", "2", "--activity"]
    )
    assert (args.base_port, args.tls, args.seed, args.scale, args.activity) == (0, True, 7, 2, True)
    stop = threading.Event()
    stop.set()
    assert run_sandbox(base_port=0, seed=3, stop=stop) == 0
    printed = capsys.readouterr().out
    assert "seed=3" in printed and "graph" in printed and "http://127.0.0.1:" in printed
