"""The hub as a real ``passerelle`` subprocess, to be killed with SIGKILL at a chosen moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["HubProcess", "wait_for"]

REPO = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.01) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(poll_s)


class HubProcess:
    """``passerelle -c <config> <args...>`` with its output in ``log``."""

    def __init__(self, config: Path, args: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PASSERELLE_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "-c", str(config), *args],
            cwd=REPO, stdout=self._out, stderr=subprocess.STDOUT, env=env,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> bool:
        """SIGKILL now; False when the process had already exited on its own."""
        if not self.alive():
            self._close()
            return False
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close()
        return True

    def wait(self, timeout_s: float) -> int:
        try:
            return self.proc.wait(timeout=timeout_s)
        finally:
            self._close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def _close(self) -> None:
        if not self._out.closed:
            self._out.close()

    def stop(self) -> None:
        """Make sure the process is gone (test teardown)."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close()
