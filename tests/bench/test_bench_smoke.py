"""The benchmark scripts work end to end at a tiny size (``python -m bench.run --quick``).

This pins that each benchmark starts its processes, drives real traffic, and measures
both sides of its ratio; it does not judge the targets (the full run does, on purpose
on a quiet machine).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.floor import main as floor_main
from bench.loadgen import LoadResult
from bench.procs import ROOT
from bench.run import main, verdicts
from bench.trees import compare_trees
from bench.writepath import main as writepath_main

pytestmark = pytest.mark.slow


def test_percentile_picks_the_nearest_rank() -> None:
    result = LoadResult(latencies_ms=[float(i) for i in range(1, 101)])
    assert result.percentile(50) == 50.0
    assert result.percentile(99) == 99.0


def test_quick_run_measures_every_benchmark_against_its_baseline(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    assert main(["--quick", "--out", str(out)]) == 0
    results = json.loads(out.read_text())

    ingest = results["ingest"]["results"][0]
    assert ingest["baseline"]["median_rps"] > 0 and ingest["hub"]["median_rps"] > 0
    assert ingest["hub"]["runs"][0]["statuses"] == {"200": ingest["hub"]["runs"][0]["sent"]}
    assert ingest["inbox_rows"] == ingest["acknowledged"]

    scale = results["sync"]["scales"][0]
    full = scale["full"]["jira-issues"]
    assert full["items"] == scale["issues"]
    assert full["baseline_median_s"] > 0 and full["runs"][0]["baseline"]["items"] == scale["issues"]
    assert full["peak_rss_mb"] > 0
    incremental = scale["incremental"]
    assert incremental["share"]["runs"][0]["updated"] == incremental["share"]["runs"][0]["changed"]
    assert incremental["no_change"]["runs"][0]["items"] == 0
    assert [r["items"] for r in incremental["after_burst"]["runs"]] == [0, 0], "quiet cycles after the burst"

    latency = results["latency"]
    assert latency["runs"][0]["arrived"] == latency["runs"][0]["edits"] > 0

    rows = verdicts(results)
    assert rows and all(verdict in ("PASS", "MISS") for _, _, verdict in rows)


def test_two_trees_are_compared_on_one_sandbox_each_with_its_own_code(tmp_path: Path) -> None:
    # The "old" tree differs from this checkout by one marker the hub prints: the run proves
    # each tree's own code ran, not the editable install's.
    old = tmp_path / "old"
    shutil.copytree(ROOT / "app", old / "app")
    cli = old / "app" / "cli" / "sync.py"
    source = cli.read_text()
    assert "created {run.created}" in source
    cli.write_text(source.replace("created {run.created}", "created {run.created} [old tree]"))

    result = compare_trees({"old": old, "new": ROOT}, scale=1, pair="jira-issues", rounds=2,
                           workdir=tmp_path)

    assert [len(result["runs"][name]) for name in ("old", "new")] == [2, 2]
    for rows in result["runs"].values():
        assert all(r["hub_s"] > 0 and r["bare_s"] > 0 and r["calls"] > 0 for r in rows)
    assert all("[old tree]" in r["summary"] for r in result["runs"]["old"])
    assert not any("[old tree]" in r["summary"] for r in result["runs"]["new"])


def test_the_write_path_is_measured_first_unchanged_and_edited(tmp_path: Path) -> None:
    out = tmp_path / "writepath.json"
    assert writepath_main(["--pair", "jira-issues", "--scale", "1", "--rounds", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["changes"] > 0
    assert set(result["median_us_per_change"]) == {"first", "unchanged", "edited"}
    assert all(v > 0 for v in result["median_us_per_change"].values())


def test_the_floor_measures_the_read_and_the_insert_against_the_bare_loop(tmp_path: Path) -> None:
    out = tmp_path / "floor.json"
    assert floor_main(["--pair", "google-events", "--scale", "1", "--rounds", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    (row,) = result["rounds"]
    assert row["items"] > 0 and row["calls"] > 0
    assert all(row[k] > 0 for k in ("bare_s", "read_wall_s", "read_cpu_s", "insert_cpu_s"))
    assert result["budget_us"] == round(1.2 * result["median_us_per_item"]["bare_s"], 1)
