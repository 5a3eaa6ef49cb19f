"""Schema migrations (Alembic), run from code: ``upgrade(url)`` and ``check_schema(url)``.

The store never creates tables on its own: a database behind the code's schema is a
deployment step (``passerelle db upgrade``), not something to paper over at start-up.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from app.errors import ConfigError
from app.storage.engine import IMMEDIATE, gate_for, make_engine

__all__ = [
    "MIGRATIONS_DIR",
    "SchemaOutOfDate",
    "alembic_config",
    "check_schema",
    "current_revisions",
    "ensure_schema",
    "head_revisions",
    "upgrade",
    "upgrade_engine",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaOutOfDate(ConfigError):
    """The database is not at the schema this code needs; run ``passerelle db upgrade``."""


def alembic_config(url: str | URL | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates '%': the psycopg options in a URL are percent-encoded.
        rendered = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    """Migrate through ``engine``, one migrator at a time even across processes.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock for the whole upgrade.
    PostgreSQL: a transaction-scoped advisory lock, so two instances starting together
    do not both try to create the tables.
    """
    cfg = alembic_config()
    with gate_for(engine).hold(), engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('passerelle.migrations'))"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (default: the newest); a no-op when it is there."""
    engine = make_engine(url)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def ensure_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is exactly at the code's head revision."""
    current, heads = current_revisions(engine), head_revisions()
    if current == heads:
        return
    if not current:
        raise SchemaOutOfDate(
            f"database {engine.url.render_as_string(hide_password=True)} has no schema: "
            "run `passerelle db upgrade`"
        )
    unknown = current - {
        rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if unknown:
        raise SchemaOutOfDate(
            f"database schema is at {sorted(unknown)}, which this version of Passerelle does not know "
            "(was it migrated by a newer release?)"
        )
    raise SchemaOutOfDate(
        f"database schema is at {sorted(current)} but this code needs {sorted(heads)}: "
        "run `passerelle db upgrade`"
    )


def check_schema(url: str | URL) -> bool:
    """True when the database at ``url`` has every migration applied and no unknown one."""
    engine = make_engine(url)
    try:
        ensure_schema(engine)
        return True
    except SchemaOutOfDate:
        return False
    finally:
        engine.dispose()
