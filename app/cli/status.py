"""``passerelle status`` and ``passerelle check``."""

from __future__ import annotations

from app.api.status_view import build_status
from app.hub import Hub
from app.settings import Settings


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


async def status_command(settings: Settings) -> int:
    """Print every connector and pair with counts, read from the store."""
    async with Hub(settings, connect=False) as hub:
        status = build_status(hub)
    print(f"{'CONNECTOR':<20} {'TYPE':<16} {'RECORDS':>8} {'PARTITIONS':>10}")
    for c in status.connectors:
        print(f"{c.name:<20} {c.type:<16} {c.records:>8} {c.partitions:>10}")
    print()
    print(f"{'PAIR':<24} {'STATE':<10} {'LAST RUN':<20} {'+':>5} {'~':>5} {'-':>5} {'=':>6} {'!':>4} "
          f"{'CURSOR AGE':>10}  ERROR")
    for p in status.pairs:
        run = p.last_run
        when = run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run else "never"
        counts = (run.created, run.updated, run.deleted, run.unchanged, run.failed) if run else (0, 0, 0, 0, 0)
        error = f"[{run.error_class}] {run.error}" if run and run.error else ""
        print(f"{p.id:<24} {p.state:<10} {when:<20} {counts[0]:>5} {counts[1]:>5} {counts[2]:>5} "
              f"{counts[3]:>6} {counts[4]:>4} {_age(p.cursor_age_s):>10}  {error}")
    held = [(p.id, h) for p in status.pairs for h in p.held_deletes]
    if held:
        print()
        print("HELD-BACK DELETES (approve: passerelle approve-deletes <pair> <label>, or on the status page)")
        for pair_id, h in held:
            approval = f"approved up to {h.approved_up_to}" if h.approved_up_to is not None else "not approved"
            print(f"{pair_id:<24} {h.label:<40} {h.missing:>6}  {approval}: {h.reason}")
    return 0


async def check_command(settings: Settings) -> int:
    """Probe every enabled connector; exit 1 when one is not usable."""
    failures = 0
    async with Hub(settings) as hub:
        for name, connector in hub.connectors.items():
            result = await connector.check()
            mark = "ok" if result.ok else "FAIL"
            detail = result.detail
            if result.missing_scopes:
                detail += f" (missing: {', '.join(result.missing_scopes)})"
            print(f"{name:<20} {mark:<5} {detail}")
            failures += 0 if result.ok else 1
    print(f"configuration valid; {len(settings.connectors)} connectors, {len(settings.pairs)} pairs")
    return 1 if failures else 0
