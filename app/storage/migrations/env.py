"""Alembic environment: runs with the hub's own engine and metadata, no alembic.ini needed.

:mod:`app.storage.schema` passes an open connection in ``config.attributes["connection"]``;
the ``alembic`` command line (``-x url=...`` or ``sqlalchemy.url``) works too. On
PostgreSQL the tables and ``alembic_version`` land in the first schema of the
connection's ``search_path``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.storage.engine import make_engine
from app.storage.tables import metadata

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set sqlalchemy.url")
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
