"""``passerelle sync [PAIR] [--full]``: run pairs now, with a progress line on a terminal."""

from __future__ import annotations

import sys

from app.hub import Hub
from app.settings import Settings
from app.storage.protocol import RunRecord, RunStatus


def _summary(run: RunRecord) -> str:
    duration = f"{run.duration_s:.1f}s" if run.duration_s is not None else "-"
    text = (f"{run.pair_id}: {run.status.value} in {duration} — created {run.created}, updated {run.updated}, "
            f"deleted {run.deleted}, unchanged {run.unchanged}, failed {run.failed}, api calls {run.api_calls}")
    if run.flags:
        text += f" [flags: {', '.join(run.flags)}]"
    if run.error:
        text += f"\n  error ({run.error_class}): {run.error}"
    return text


async def sync_command(settings: Settings, pair_id: str | None, *, full: bool) -> int:
    pairs = [p for p in settings.pairs if p.enabled and (pair_id is None or p.id == pair_id)]
    if pair_id is not None and not pairs:
        print(f"passerelle: no enabled pair {pair_id!r}", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()
    failed = 0
    async with Hub(settings) as hub:
        for pair in pairs:
            progress = _Progress(pair.id) if tty else None
            run = await hub.sync(pair.id, full=full, trigger="cli", progress=progress)
            if progress:
                progress.clear()
            print(_summary(run))
            failed += run.status in (RunStatus.FAILED, RunStatus.SUSPICIOUS_MASS_DELETE)
    return 1 if failed else 0


class _Progress:
    """Rewrites one terminal line as pages are committed."""

    def __init__(self, pair_id: str) -> None:
        self.pair_id = pair_id

    def __call__(self, run: RunRecord) -> None:
        done = run.created + run.updated + run.deleted + run.unchanged
        sys.stderr.write(f"\r{self.pair_id}: {done} records ({run.created} new, {run.updated} updated, "
                         f"{run.deleted} deleted), {run.api_calls} calls ")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
