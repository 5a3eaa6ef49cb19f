"""``python -m bench.trees OLD [NEW] [--scale N] [--pair P] [--rounds R] [--resync]``: a change, before and after.

Two source trees of the hub (``git archive <commit> | tar -x -C DIR``; NEW defaults to this
checkout) run the same full sync against ONE sandbox, alternating which goes first in each
round, each round with its own bare-loop baseline. On a shared machine only such side-by-side
runs tell a change from the noise (docs/benchmarks.md). A tree is selected by running the hub
with the tree as working directory and on ``PYTHONPATH`` (``python -c`` puts the working
directory first on ``sys.path``, ahead of the editable install). ``--resync`` measures a second
full sync over the first one's database: every record is then already in the hub.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench import bareloop
from bench.hubconfig import database, write_config
from bench.procs import PYTHON, ROOT, SandboxProcess, run_measured, start_sandbox
from bench.syncbench import _VENDOR, _api_requests, _clear_log, _last_run, _log

__all__ = ["compare_trees", "main"]


def _hub(*args: str) -> list[str]:
    return [PYTHON, "-c", "import sys; from app.cli.main import main; sys.exit(main())", *args]


def _full_sync(sandbox: SandboxProcess, tree: Path, pair: str, workdir: Path, tag: str, *, resync: bool
               ) -> dict[str, Any]:
    """One measured ``sync --full`` of ``tree`` (``resync``: a second one, over the first's database)."""
    vendor = _VENDOR[pair]
    env = {"PYTHONPATH": str(tree)}
    with database("sqlite", workdir) as url:
        config = write_config(workdir / f"trees-{tag}.yaml", sandbox, url, pairs=[pair], log_level="WARNING")
        upgraded = run_measured(_hub("--config", str(config), "db", "upgrade"), env=env, cwd=tree)
        if upgraded.returncode != 0:
            raise RuntimeError(f"db upgrade in {tree} failed:\n{upgraded.stdout[-2000:]}")
        for _ in range(2 if resync else 1):
            _clear_log(sandbox, vendor)
            synced = run_measured(_hub("--config", str(config), "sync", pair, "--full"), env=env, cwd=tree)
            if synced.returncode != 0:
                raise RuntimeError(f"sync in {tree} failed:\n{synced.stdout[-2000:]}")
        seconds, _ = _last_run(url, pair)
        log = _api_requests(_log(sandbox, vendor))
    if pair == "jira-issues":
        base = bareloop.bare_jira_full(sandbox.vendor_url("jira"))
    else:
        headers = bareloop.slack_headers() if vendor == "slack" else bareloop.google_headers()
        base = bareloop.replay(sandbox.vendor_url(vendor), log, headers)
    return {"hub_s": round(seconds, 3), "bare_s": round(base["seconds"], 3),
            "ratio": round(seconds / base["seconds"], 3), "peak_rss_mb": round(synced.peak_rss_mb, 1),
            "process_cpu_s": round(synced.cpu_s, 3),
            "calls": len(log), "summary": synced.stdout.strip().splitlines()[-1]}


def compare_trees(trees: dict[str, Path], *, scale: int, pair: str, rounds: int, workdir: Path,
                  resync: bool = False) -> dict[str, Any]:
    """Per tree: every round's figures and their medians."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    with start_sandbox(scale, workdir) as sandbox:
        httpx.patch(f"{sandbox.vendor_url('slack')}/_sandbox/rate_limits", json={"enabled": False},
                    timeout=30).raise_for_status()
        order = list(trees.items())
        for n in range(rounds):
            for name, tree in order if n % 2 == 0 else order[::-1]:
                row = _full_sync(sandbox, tree, pair, workdir, f"{name}-{n}", resync=resync)
                runs[name].append(row)
                print(n, name, row, flush=True)
    summary = {
        name: {"median_hub_s": statistics.median(r["hub_s"] for r in rows),
               "median_ratio": statistics.median(r["ratio"] for r in rows),
               "median_process_cpu_s": statistics.median(r["process_cpu_s"] for r in rows),
               "max_peak_rss_mb": max(r["peak_rss_mb"] for r in rows)}
        for name, rows in runs.items()
    }
    return {"scale": scale, "pair": pair, "rounds": rounds, "resync": resync,
            "trees": {k: str(v) for k, v in trees.items()}, "runs": runs, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the tree before the change")
    parser.add_argument("new", type=Path, nargs="?", default=ROOT, help="the tree after it (this checkout)")
    parser.add_argument("--scale", type=int, default=250, help="sandbox scale (250: 10,000 Jira issues)")
    parser.add_argument("--pair", choices=sorted(_VENDOR), default="jira-issues")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--resync", action="store_true",
                        help="measure a second full sync over the first one's database (a full resync)")
    parser.add_argument("--out", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    for tree in trees.values():
        if not (tree / "app" / "cli" / "main.py").exists():
            parser.error(f"{tree} holds no hub source tree")
    with tempfile.TemporaryDirectory(prefix="passerelle-trees-") as tmp:
        result = compare_trees(trees, scale=args.scale, pair=args.pair, rounds=args.rounds, workdir=Path(tmp),
                               resync=args.resync)
    for name, figures in result["summary"].items():
        print(name, figures)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
