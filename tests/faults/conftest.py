"""Fixtures of the fault suite: the sandbox in this process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.sandbox.runner import Sandbox, start_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox(base_port=0, seed=7)
    assert not running.missing, running.missing
    yield running
    running.stop()
