"""Webhook delivery with the vendor's retry behaviour, run on a background thread.

A simulator queues a :class:`Delivery`; the dispatcher signs it (through the
delivery's ``build`` callback, called once per attempt so per-attempt headers such
as Slack's ``X-Slack-Retry-Num`` and fresh timestamps are right), POSTs it, and
retries on failure after ``retry_delays_s``. Chaos may drop or duplicate deliveries.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.sandbox.common.chaos import Chaos


@dataclass
class Delivery:
    """One webhook to send. ``build(attempt)`` returns (headers, body) for attempt 0, 1, ...

    ``ok(status)`` says whether the receiver's status ends the delivery; ``timeout_s``
    counts as a failure when the receiver is slower (Slack's and Graph's 3 seconds).
    """

    url: str
    build: Callable[[int], tuple[dict[str, str], bytes]]
    event: str = ""
    retry_delays_s: Sequence[float] = (1.0, 5.0, 30.0)
    timeout_s: float = 10.0
    method: str = "POST"
    ok: Callable[[int], bool] = field(default=lambda status: 200 <= status < 300)
    attempt: int = 0
    not_before: float = 0.0


class WebhookDispatcher:
    """A single background sender per simulator; ``history()`` lists what was sent and answered."""

    def __init__(self, chaos: Chaos, name: str = "sandbox", verify: bool | str = True) -> None:
        self._chaos = chaos
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._history: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._name = name
        self._verify = verify
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def send(self, delivery: Delivery) -> None:
        """Queue a delivery (may be dropped or duplicated by chaos)."""
        if self._chaos.roll(self._chaos.webhook_drop_rate):
            self._record(delivery, status=None, note="dropped by chaos")
            return
        copies = 2 if self._chaos.roll(self._chaos.webhook_duplicate_rate) else 1
        self._ensure_thread()
        for _ in range(copies):
            with self._lock:
                self._pending += 1
            self._queue.put(Delivery(**{**delivery.__dict__}))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued delivery finished (sent or gave up); for tests."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def history(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._history)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    # --- internals --------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"{self._name}-webhooks", daemon=True)
                self._thread.start()

    def _record(self, delivery: Delivery, status: int | None, note: str = "") -> None:
        with self._lock:
            self._history.append(
                {"url": delivery.url, "event": delivery.event, "attempt": delivery.attempt,
                 "status": status, "note": note, "time": time.time()}
            )

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _run(self) -> None:
        waiting: list[Delivery] = []
        with httpx.Client(verify=self._verify) as client:
            while True:
                timeout = None
                if waiting:
                    timeout = max(0.0, min(d.not_before for d in waiting) - time.monotonic())
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    item = None
                    if not waiting:
                        continue
                else:
                    if item is None:
                        return
                    waiting.append(item)
                now = time.monotonic()
                due = [d for d in waiting if d.not_before <= now]
                waiting = [d for d in waiting if d.not_before > now]
                for delivery in due:
                    retry = self._attempt(client, delivery)
                    if retry is not None:
                        waiting.append(retry)
                    else:
                        self._done()

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> Delivery | None:
        headers, body = delivery.build(delivery.attempt)
        status: int | None
        try:
            response = client.request(delivery.method, delivery.url, headers=headers, content=body,
                                      timeout=delivery.timeout_s)
            status = response.status_code
            note = ""
        except httpx.TimeoutException:
            status, note = None, "timeout"
        except httpx.HTTPError as exc:
            status, note = None, f"error: {exc.__class__.__name__}"
        self._record(delivery, status, note)
        if status is not None and delivery.ok(status):
            return None
        if delivery.attempt >= len(delivery.retry_delays_s):
            return None
        delay = delivery.retry_delays_s[delivery.attempt]
        return Delivery(**{**delivery.__dict__, "attempt": delivery.attempt + 1,
                           "not_before": time.monotonic() + delay})
