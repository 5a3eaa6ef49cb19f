"""What the in-process tools (``bench.writepath``, ``bench.floor``) share: the pairs they know, the
pull's GC setting, and a sandbox with a hub configuration pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.hubconfig import write_config
from bench.procs import SandboxProcess, start_sandbox

__all__ = ["CONNECTOR", "PULL_GC_THRESHOLD0", "sandbox_with_config"]

CONNECTOR = {"jira-issues": ("jira", "issues"), "slack-messages": ("slack", "messages"),
             "google-events": ("google", "events")}
"""Pair -> (connector name, stream) in the benchmark's hub configuration."""
PULL_GC_THRESHOLD0 = 10_000
"""``app.sync.pull``'s GC threshold while a pull runs (not imported: ``--tree`` must pick the hub's code)."""


@contextmanager
def sandbox_with_config(scale: int, workdir: Path, pair: str, name: str) -> Iterator[tuple[SandboxProcess, Path]]:
    """A sandbox at ``scale`` (Slack's rate limits off) and a hub configuration for ``pair`` on it."""
    with start_sandbox(scale, workdir) as sandbox:
        httpx.patch(f"{sandbox.vendor_url('slack')}/_sandbox/rate_limits", json={"enabled": False},
                    timeout=30).raise_for_status()
        yield sandbox, write_config(workdir / f"{name}.yaml", sandbox, f"sqlite:///{workdir / 'unused.db'}",
                                    pairs=[pair], log_level="WARNING")
