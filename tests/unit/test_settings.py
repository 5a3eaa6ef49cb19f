"""Configuration: YAML + environment, secrets, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.cli import main
from app.errors import ConfigError
from app.settings import load_settings

EXAMPLE = Path(__file__).parents[2] / "config" / "passerelle.example.yaml"


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "passerelle.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_example_config_is_valid() -> None:
    settings = load_settings(EXAMPLE)
    assert {"jira", "confluence", "slack", "google", "outlook"} <= set(settings.connectors)


def test_environment_overrides_a_nested_yaml_key_and_keeps_its_siblings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSERELLE_SERVER__PORT", "9100")
    monkeypatch.setenv("PASSERELLE_CONNECTORS__JIRA__API_TOKEN", "from-env")
    settings = load_settings(EXAMPLE)
    assert settings.server.port == 9100
    assert settings.server.host == "127.0.0.1"
    jira = settings.connectors["jira"]
    assert jira.type == "jira"
    assert jira.api_token.get_secret_value() == "from-env"
    assert jira.email == "bot@example.com"


def test_admin_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSERELLE_ADMIN_TOKEN", "x" * 32)
    settings = load_settings(EXAMPLE)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "x" * 32
    assert "x" * 32 not in repr(settings)


def test_a_secret_can_come_from_a_secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "PASSERELLE_ADMIN_TOKEN").write_text("y" * 24)
    monkeypatch.setenv("PASSERELLE_SECRETS_DIR", str(secrets))
    settings = load_settings(write(tmp_path, {}))
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "y" * 24


@pytest.mark.parametrize(
    ("token", "ok"), [(None, False), ("changeme", False), ("short", False), ("k" * 20, True)]
)
def test_well_known_or_missing_admin_tokens_are_refused(token: str | None, ok: bool) -> None:
    settings = load_settings(admin_token=token)
    assert (settings.admin_token_problem() is None) is ok


def test_a_wrong_type_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(write(tmp_path, {"server": {"port": "not-a-port"}}))


def test_a_missing_required_key_names_it(tmp_path: Path) -> None:
    path = write(tmp_path, {"connectors": {"jira": {"type": "jira", "email": "a@b.c"}}})
    with pytest.raises(ConfigError, match=r"connectors\.jira\.jira\.api_token: Field required"):
        load_settings(path)


def test_a_pair_naming_an_unknown_connector_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"pairs": [{"id": "p", "source": {"connector": "nope", "stream": "s"}}]})
    with pytest.raises(ConfigError, match="unknown connector 'nope'"):
        load_settings(path)


def test_an_invalid_config_exits_2_and_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"sync": {"mass_delete_share": "lots"}})
    assert main(["--config", str(path), "status"]) == 2
    assert "sync.mass_delete_share" in capsys.readouterr().err


def test_a_missing_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "absent.yaml"), "status"]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_sandbox_options_reach_the_simulators(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sandbox", "--base-port", "not-a-number"])
    assert exit_info.value.code == 2
    assert "--base-port: invalid int value" in capsys.readouterr().err
