"""Configuration: a YAML file, overridden by ``PASSERELLE_...`` environment variables.

Nested keys use ``__`` in the environment (``PASSERELLE_SERVER__PORT=9000``). Secrets are
``SecretStr`` and may come from the environment, the YAML file, or files in
``PASSERELLE_SECRETS_DIR`` (one file per top-level key, named like its environment
variable, e.g. ``PASSERELLE_ADMIN_TOKEN``: the Docker/Kubernetes secrets convention).
Build settings with :func:`load_settings`; there is no import-time global.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from app.errors import ConfigError

__all__ = [
    "ConfluenceSettings",
    "ConnectorSettings",
    "GoogleCalendarSettings",
    "JiraSettings",
    "MemorySettings",
    "OutlookSettings",
    "PairEndpoint",
    "PairSettings",
    "RetentionSettings",
    "Settings",
    "SlackSettings",
    "load_settings",
]

WELL_KNOWN_TOKENS = frozenset({"", "changeme", "change-me", "admin", "secret", "password", "token", "demo"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: str | None = None
    """Where the vendors reach this hub (webhook callback base URL)."""


class LogSettings(_Strict):
    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SyncSettings(_Strict):
    default_interval_s: float = Field(default=300.0, gt=0)
    mass_delete_share: float = Field(default=0.5, gt=0, le=1)
    """A census that would delete more than this share of a partition deletes nothing and flags the run."""
    mass_delete_min_items: int = Field(default=5, ge=0)
    """Partitions smaller than this are exempt from the share rule (but never from the 'lists nothing' rule)."""
    lease_ttl_s: float = Field(default=120.0, gt=0)
    census_every_runs: int = Field(default=12, ge=1)
    partition_refresh_s: float = Field(default=900.0, ge=0)
    """How long a listing of a stream's partitions (channels, calendars) is reused; full runs list afresh."""


class WebhookSettings(_Strict):
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    max_attempts: int = Field(default=5, ge=1)


class RetentionSettings(_Strict):
    """How long the webhook inbox and the write outbox keep the rows they have finished with.

    Inbox rows ``done`` and outbox rows ``done`` or ``superseded`` older than
    ``keep_finished_days`` are deleted every ``prune_interval_s``; ``pending`` rows and dead
    letters (``dead``) are kept whatever their age. The trade-off: a delivery's
    ``(source, delivery_id)`` row is what makes a vendor's retry of it a duplicate, so once it is
    pruned a redelivery of that id is processed again (one more targeted sync, harmless). Keep it
    well beyond the vendors' retry windows (Slack about an hour, Jira and Microsoft Graph a few
    hours): at least one day is enforced. A pruned outbox write is never repeated (the baseline
    committed with it, not its row, stops that: see :mod:`app.storage.retention`).
    """

    enabled: bool = True
    keep_finished_days: float = Field(default=7.0, ge=1.0)
    prune_interval_s: float = Field(default=3600.0, gt=0)


class _ConnectorBase(_Strict):
    enabled: bool = True
    base_url: str | None = None
    max_concurrency: int = Field(default=4, ge=1, le=64)
    timeout_s: float = Field(default=30.0, gt=0)
    ca_file: Path | None = None
    """Extra CA bundle, e.g. the sandbox's self-signed certificate."""


class MemorySettings(_ConnectorBase):
    type: Literal["memory"] = "memory"
    seed: int = 1
    items: int = Field(default=20, ge=0)


class JiraSettings(_ConnectorBase):
    type: Literal["jira"] = "jira"
    email: str
    api_token: SecretStr
    projects: list[str] = Field(default_factory=list)
    webhook_secret: SecretStr | None = None
    overlap_s: float = Field(default=60.0, ge=0)


class ConfluenceSettings(_ConnectorBase):
    type: Literal["confluence"] = "confluence"
    email: str
    api_token: SecretStr
    spaces: list[str] = Field(default_factory=list)


class SlackSettings(_ConnectorBase):
    type: Literal["slack"] = "slack"
    bot_token: SecretStr
    signing_secret: SecretStr | None = None
    channels: list[str] = Field(default_factory=list)
    thread_lookback_days: float = Field(default=7.0, ge=0)


class GoogleCalendarSettings(_ConnectorBase):
    type: Literal["google_calendar"] = "google_calendar"
    service_account_file: Path | None = None
    refresh_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    token_uri: str | None = None
    """OAuth token endpoint for refreshes; Google's (``https://oauth2.googleapis.com/token``) when unset."""
    calendars: list[str] = Field(default_factory=list)
    channel_token: SecretStr | None = None


class OutlookSettings(_ConnectorBase):
    type: Literal["outlook"] = "outlook"
    tenant_id: str
    client_id: str
    client_secret: SecretStr
    authority_url: str | None = None
    user: str = "me"
    calendars: list[str] = Field(default_factory=list)
    window_days_back: int = Field(default=30, ge=0)
    window_days_ahead: int = Field(default=90, ge=0)
    client_state: SecretStr | None = None


ConnectorSettings = Annotated[
    MemorySettings | JiraSettings | ConfluenceSettings | SlackSettings | GoogleCalendarSettings | OutlookSettings,
    Field(discriminator="type"),
]


class PairEndpoint(_Strict):
    connector: str
    stream: str
    partitions: list[str] | None = None
    """Restrict to these partitions; default: every partition the connector lists."""


class PairSettings(_Strict):
    """A sync job: pull ``source`` into the hub, and for two-way pairs keep ``target`` in step."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    source: PairEndpoint
    target: PairEndpoint | None = None
    mode: Literal["pull", "two_way"] = "pull"
    conflict_policy: Literal["source_wins", "target_wins", "newest_wins"] = "newest_wins"
    interval_s: float | None = Field(default=None, gt=0)
    enabled: bool = True

    def pulled_streams(self) -> set[tuple[str, str]]:
        """(connector, stream) of each side the pair pulls into the hub."""
        ends = [self.source] + ([self.target] if self.mode == "two_way" and self.target is not None else [])
        return {(end.connector, end.stream) for end in ends}

    @model_validator(mode="after")
    def _two_way_needs_target(self) -> PairSettings:
        if self.mode == "two_way" and self.target is None:
            raise ValueError("a two_way pair needs a target")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PASSERELLE_", env_nested_delimiter="__", extra="forbid", secrets_dir=None
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None
    """SQLAlchemy URL; default: SQLite at ``<data_dir>/passerelle.db``. PostgreSQL: ``postgresql+psycopg://...``."""
    admin_token: SecretStr | None = None
    demo: bool = False
    server: ServerSettings = Field(default_factory=ServerSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    connectors: dict[str, ConnectorSettings] = Field(default_factory=dict)
    pairs: list[PairSettings] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the YAML file (passed as init kwargs); secret files come last.
        return env_settings, init_settings, file_secret_settings

    @model_validator(mode="after")
    def _pairs_name_known_connectors(self) -> Settings:
        for pair in self.pairs:
            for end in (pair.source, pair.target):
                if end is not None and end.connector not in self.connectors:
                    raise ValueError(f"pair {pair.id!r} names unknown connector {end.connector!r}")
        ids = [p.id for p in self.pairs]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate pair ids: {sorted(dupes)}")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'passerelle.db').resolve()}"

    def admin_token_problem(self) -> str | None:
        """Why the admin token is unusable outside demo mode, or None when it is fine."""
        if self.admin_token is None:
            return "admin_token is not set (PASSERELLE_ADMIN_TOKEN)"
        value = self.admin_token.get_secret_value()
        if value.strip().lower() in WELL_KNOWN_TOKENS or len(value) < 16:
            return "admin_token is a well-known or short value; use at least 16 random characters"
        return None


def _format_validation_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{loc}: {err['msg']}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Read the YAML file at ``path`` (or ``$PASSERELLE_CONFIG``), apply the environment, validate.

    Raises ``ConfigError`` naming each bad key and why.
    """
    if path is None:
        env_path = os.environ.get("PASSERELLE_CONFIG")
        path = Path(env_path) if env_path else None
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        data = loaded
    data.update(overrides)
    secrets_dir = os.environ.get("PASSERELLE_SECRETS_DIR")
    try:
        if secrets_dir:
            return Settings(_secrets_dir=secrets_dir, **data)
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc)) from exc
