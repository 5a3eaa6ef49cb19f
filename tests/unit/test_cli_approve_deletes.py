"""``passerelle approve-deletes``: the approval for deployments without the service's admin API."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.cli.main import main
from app.settings import load_settings
from app.storage import CursorKey, create_store

ALPHA = CursorKey("mem", "items", "alpha")


@pytest.fixture
def config(tmp_path: Path, restore_logging: None) -> Path:
    path = tmp_path / "passerelle.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path),
        "connectors": {"mem": {"type": "memory", "items": 10}},
        "pairs": [{"id": "mem-items", "source": {"connector": "mem", "stream": "items"}}],
    }))
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    return path


def _held(config: Path) -> tuple[int | None, int | None]:
    store = create_store(load_settings(config).effective_database_url)
    try:
        held = store.held_deletes(ALPHA)
        return (held.missing, held.approved_up_to) if held else (None, None)
    finally:
        store.close()


def _hold(config: Path, missing: int) -> None:
    store = create_store(load_settings(config).effective_database_url)
    try:
        store.hold_deletes(ALPHA, missing, f"{missing} of 10 records would vanish")
    finally:
        store.close()


def test_an_approval_from_the_command_line_is_stored(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _hold(config, 8)
    assert main(["--config", str(config), "approve-deletes", "mem-items", "mem/items/alpha"]) == 0
    assert _held(config) == (8, 8)
    assert "approved up to 8 deletes in mem/items/alpha" in capsys.readouterr().out
    assert main(["--config", str(config), "approve-deletes", "mem-items", "mem/items/alpha", "--up-to", "3"]) == 0
    assert _held(config) == (8, 3)


def test_nothing_held_is_exit_1_and_a_wrong_pair_label_or_count_is_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "approve-deletes", "mem-items", "mem/items/alpha"]) == 1
    assert "nothing is held back in mem/items/alpha" in capsys.readouterr().err
    _hold(config, 8)
    assert main(["--config", str(config), "approve-deletes", "nope", "mem/items/alpha"]) == 2
    assert main(["--config", str(config), "approve-deletes", "mem-items", "alpha"]) == 2
    assert main(["--config", str(config), "approve-deletes", "mem-items", "other/items/alpha"]) == 2
    assert main(["--config", str(config), "approve-deletes", "mem-items", "mem/items/alpha", "--up-to", "0"]) == 2
    assert "up_to must be at least 1" in capsys.readouterr().err
    assert _held(config) == (8, None)
