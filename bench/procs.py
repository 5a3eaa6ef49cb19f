"""The processes a benchmark runs: the sandbox, the hub and the bare baseline server.

Each is a separate subprocess on loopback, so the load generator, the vendor simulators
and the hub never share an interpreter (or a GIL). Peak RSS comes from the kernel:
``VmHWM`` in ``/proc/<pid>/status``, polled while a process runs (``wait4``'s ``ru_maxrss``
would also count this process's own resident set at the fork).
"""

from __future__ import annotations

import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Self

import httpx

__all__ = [
    "ROOT",
    "HubProcess",
    "SandboxProcess",
    "Server",
    "free_base_port",
    "free_port",
    "passerelle",
    "peak_rss_mb",
    "run_measured",
    "start_baseline",
    "start_hub",
    "start_sandbox",
]

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
VENDOR_OFFSETS = {"jira": 1, "confluence": 2, "slack": 3, "google_calendar": 4, "graph": 5}


def passerelle(*args: str) -> list[str]:
    """The ``passerelle`` command line of the interpreter running the benchmark (its venv's script)."""
    script = Path(PYTHON).parent / "passerelle"
    if script.exists():
        return [str(script), *args]
    return [PYTHON, "-c", "import sys; from app.cli.main import main; sys.exit(main())", *args]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_base_port() -> int:
    """A base port whose five vendor ports (base+1 .. base+5) are free."""
    for _ in range(200):
        base = random.randrange(20_000, 60_000)
        if all(_port_free(base + offset) for offset in VENDOR_OFFSETS.values()):
            return base
    raise RuntimeError("no free block of five ports on 127.0.0.1")


def peak_rss_mb(pid: int) -> float | None:
    """The high-water mark of a running process's resident set, in MiB."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within {timeout_s:g}s")


@dataclass
class Server:
    """A subprocess serving HTTP; ``stop()`` sends SIGINT (a clean uvicorn shutdown), then kills."""

    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.proc.pid)

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class SandboxProcess(Server):
    base_port: int = 0
    scale: int = 1

    def vendor_url(self, vendor: str) -> str:
        return f"http://127.0.0.1:{self.base_port + VENDOR_OFFSETS[vendor]}"


@dataclass
class HubProcess(Server):
    token: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _spawn(cmd: list[str], log_path: Path | None, env: dict[str, str] | None = None
           ) -> tuple[subprocess.Popen[bytes], IO[bytes] | None]:
    # Closed by Server.stop.
    sink: IO[bytes] | None = open(log_path, "wb") if log_path else None  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=sink or subprocess.DEVNULL, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    return proc, sink


def start_sandbox(scale: int, workdir: Path, *, seed: int = 1, timeout_s: float = 600.0) -> SandboxProcess:
    """``passerelle sandbox --base-port P --scale N`` in its own process; returns once Jira and Slack answer.

    Started as ``python -m app.sandbox.runner``: ``passerelle sandbox --base-port ...`` is
    refused by the top-level parser (argparse REMAINDER does not take leading options).
    """
    base = free_base_port()
    log_path = workdir / f"sandbox-{scale}.log"
    cmd = [PYTHON, "-m", "app.sandbox.runner", "--base-port", str(base), "--scale", str(scale),
           "--seed", str(seed)]
    proc, sink = _spawn(cmd, log_path)
    box = SandboxProcess(proc, f"http://127.0.0.1:{base}", log_path, sink, base_port=base, scale=scale)
    try:
        for vendor in ("jira", "slack", "google_calendar"):
            _wait_http(f"{box.vendor_url(vendor)}/_sandbox/health", proc, timeout_s, f"sandbox ({vendor})")
    except BaseException:
        box.stop()
        raise
    return box


def start_hub(config: Path, workdir: Path, *, token: str | None = None, timeout_s: float = 60.0,
              env: dict[str, str] | None = None) -> HubProcess:
    """Run ``passerelle db upgrade``, then ``passerelle serve`` on a free port, until ``/health`` answers."""
    token = token or secrets.token_urlsafe(24)
    full_env = {"PASSERELLE_ADMIN_TOKEN": token, **(env or {})}
    subprocess.run(passerelle("--config", str(config), "db", "upgrade"), cwd=ROOT, check=True,
                   env={**os.environ, **full_env}, stdout=subprocess.DEVNULL)
    port = free_port()
    log_path = workdir / f"hub-{port}.log"
    proc, sink = _spawn(passerelle("--config", str(config), "serve", "--port", str(port)), log_path, full_env)
    hub = HubProcess(proc, f"http://127.0.0.1:{port}", log_path, sink, token=token)
    try:
        _wait_http(f"{hub.url}/health", proc, timeout_s, "hub")
    except BaseException:
        hub.stop()
        raise
    return hub


def start_baseline(workdir: Path, timeout_s: float = 30.0) -> Server:
    """The bare FastAPI endpoint (:mod:`bench.baseline_app`) on the hub's server stack."""
    port = free_port()
    log_path = workdir / f"baseline-{port}.log"
    proc, sink = _spawn([PYTHON, "-m", "bench.baseline_app", "--port", str(port)], log_path)
    server = Server(proc, f"http://127.0.0.1:{port}", log_path, sink)
    try:
        _wait_http(f"{server.url}/health", proc, timeout_s, "baseline server")
    except BaseException:
        server.stop()
        raise
    return server


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    wall_s: float
    peak_rss_mb: float
    """The child's own high-water mark (``VmHWM`` polled every 20 ms while it runs)."""
    rusage_maxrss_mb: float
    """``wait4``'s ``ru_maxrss``: on Linux it also counts the parent's resident set at the fork (the
    kernel carries the pre-exec memory's high-water mark over), so it is kept only for reference."""
    cpu_s: float = 0.0
    """User and system CPU of the whole process (start-up included), from ``wait4``."""


def _watch_hwm(pid: int, done: threading.Event, seen: list[float]) -> None:
    while not done.wait(0.02):
        value = peak_rss_mb(pid)
        if value is not None:
            seen.append(value)


def run_measured(cmd: list[str], env: dict[str, str] | None = None, timeout_s: float = 1800.0,
                 cwd: Path = ROOT) -> Measured:
    """Run ``cmd`` (in ``cwd``) to the end; its wall time and its own peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    assert proc.stdout is not None
    done, seen = threading.Event(), [0.0]
    watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, done, seen), daemon=True)
    watcher.start()
    deadline = time.monotonic() + timeout_s
    out = proc.stdout.read()  # until the child closes its stdout, i.e. exits
    last = peak_rss_mb(proc.pid)  # the zombie-to-be may still answer
    done.set()
    watcher.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if time.monotonic() > deadline:
        raise TimeoutError(f"{cmd} took longer than {timeout_s:g}s")
    return Measured(proc.returncode, out.decode(errors="replace"), time.perf_counter() - started,
                    max(seen + ([last] if last is not None else [])), usage.ru_maxrss / 1024,
                    usage.ru_utime + usage.ru_stime)
