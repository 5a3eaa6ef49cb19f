"""Run every vendor simulator in one process: ``passerelle sandbox``.

Ports: Jira ``base+1``, Confluence ``base+2``, Slack ``base+3``, Google Calendar ``base+4``,
Microsoft Graph ``base+5`` (``base_port=0``: free ports). Each answers
``GET /_sandbox/health``. ``tls=True`` creates a throwaway CA and a server certificate for
127.0.0.1/localhost and serves HTTPS; clients trust the printed CA file. Simulator classes
are imported lazily, and one that is missing or fails to start is reported and skipped.
``activity=True`` makes the team change things every few seconds (:mod:`.activity`).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.sandbox.activity import TeamActivity
from app.sandbox.common import ServedApp, Simulator, serve_in_thread
from app.sandbox.tls import SandboxCertificates, make_certificates
from app.sandbox.world import TeamWorld

__all__ = ["VENDORS", "Sandbox", "build_parser", "main", "run_sandbox", "start_sandbox"]

VENDORS: tuple[tuple[str, str, int], ...] = (
    ("jira", "app.sandbox.jira:JiraSimulator", 1),
    ("confluence", "app.sandbox.confluence:ConfluenceSimulator", 2),
    ("slack", "app.sandbox.slack:SlackSimulator", 3),
    ("google_calendar", "app.sandbox.google_calendar:GoogleCalendarSimulator", 4),
    ("graph", "app.sandbox.graph:GraphSimulator", 5),
)
"""(vendor, class path, port offset from ``base_port``)."""


@dataclass
class Sandbox:
    """The running simulators, keyed by vendor; ``missing`` says why a vendor is not running."""

    world: TeamWorld
    urls: dict[str, str] = field(default_factory=dict)
    simulators: dict[str, Simulator] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    certificates: SandboxCertificates | None = None
    activity: TeamActivity | None = None
    _served: list[ServedApp] = field(default_factory=list)

    @property
    def ca_file(self) -> Path | None:
        return self.certificates.ca_file if self.certificates else None

    def url(self, vendor: str) -> str:
        return self.urls[vendor]

    def stop(self) -> None:
        if self.activity is not None:
            self.activity.stop()
        for served in self._served:
            served.stop()
        self._served.clear()

    def describe(self) -> str:
        lines = [f"sandbox world: seed={self.world.seed} scale={self.world.scale} anchor={self.world.anchor}"]
        lines += [f"  {vendor:<16} {url}" for vendor, url in self.urls.items()]
        lines += [f"  {vendor:<16} NOT RUNNING: {why}" for vendor, why in self.missing.items()]
        if self.certificates:
            lines.append(f"  trust this CA: {self.certificates.ca_file}")
        if self.activity is not None:
            lines.append(f"  team activity: one change every ~{self.activity.interval_s:g}s")
        return "\n".join(lines)


def _load(path: str) -> type[Simulator]:
    module_name, _, class_name = path.partition(":")
    cls: type[Simulator] = getattr(importlib.import_module(module_name), class_name)
    return cls


def start_sandbox(
    host: str = "127.0.0.1",
    base_port: int = 8100,
    tls: bool = False,
    seed: int = 1,
    scale: int = 1,
    activity: bool = False,
    *,
    cert_dir: Path | None = None,
    activity_interval_s: float = 5.0,
    vendors: Sequence[str] | None = None,
) -> Sandbox:
    """Start the simulators on loopback threads and return once all accept connections."""
    world = TeamWorld(seed=seed, scale=scale)
    sandbox = Sandbox(world)
    if tls:
        sandbox.certificates = make_certificates(
            cert_dir or Path(tempfile.mkdtemp(prefix="passerelle-sandbox-"))
        )
    certs = sandbox.certificates
    try:
        for vendor, path, offset in VENDORS:
            if vendors is not None and vendor not in vendors:
                continue
            try:
                sim = _load(path)(world)
            except (ImportError, AttributeError) as exc:
                sandbox.missing[vendor] = f"{path} is not available ({exc})"
                continue
            served = serve_in_thread(
                sim.app,
                host=host,
                port=base_port + offset if base_port else 0,
                certfile=certs.cert_file if certs else None,
                keyfile=certs.key_file if certs else None,
            )
            sandbox._served.append(served)
            sandbox.simulators[vendor] = sim
            sandbox.urls[vendor] = served.url
    except BaseException:
        sandbox.stop()
        raise
    if activity:
        sandbox.activity = TeamActivity(dict(sandbox.simulators), interval_s=activity_interval_s, seed=seed)
        sandbox.activity.start()
    return sandbox


def run_sandbox(
    host: str = "127.0.0.1",
    base_port: int = 8100,
    tls: bool = False,
    seed: int = 1,
    scale: int = 1,
    activity: bool = False,
    *,
    stop: threading.Event | None = None,
) -> int:
    """Serve until interrupted (Ctrl-C / SIGTERM, or ``stop`` set). Returns the exit status."""
    try:
        sandbox = start_sandbox(host, base_port, tls, seed, scale, activity)
    except (OSError, RuntimeError) as exc:
        print(f"sandbox failed to start: {exc}", file=sys.stderr)
        return 1
    print(sandbox.describe(), flush=True)
    stop = stop or threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if not sandbox.missing else 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="passerelle sandbox", description="Run the vendor simulators locally."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--base-port", type=int, default=8100, help="Jira on base+1 .. Graph on base+5; 0 picks free ports"
    )
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a generated CA (path printed)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--activity", action="store_true", help="simulate the team changing things")
    return parser


def main(argv: list[str] | None = None) -> int:
    args: Any = build_parser().parse_args(argv)
    return run_sandbox(args.host, args.base_port, args.tls, args.seed, args.scale, args.activity)


if __name__ == "__main__":
    raise SystemExit(main())
