"""The migrations build exactly the tables the code declares, where the URL says."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from app.storage import upgrade
from app.storage.engine import make_engine
from app.storage.schema import head_revisions
from app.storage.tables import metadata


def _drift(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_table_definitions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    assert _drift(url) == []


@pytest.mark.postgres
def test_postgres_migrations_match_the_table_definitions(pg_schema_url: str) -> None:
    upgrade(pg_schema_url)
    assert _drift(pg_schema_url) == []


@pytest.mark.postgres
def test_postgres_tables_and_version_land_in_the_search_path_schema(pg_schema_url: str) -> None:
    schema = unquote(pg_schema_url.rsplit("search_path%3D", 1)[1])
    upgrade(pg_schema_url)

    engine = make_engine(pg_schema_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_name IN ('alembic_version', 'records', 'inbox', 'leases')"
                )
            ).all()
            version = (
                conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalars().all()
            )
    finally:
        engine.dispose()

    assert {r.table_schema for r in rows} == {schema}
    assert {r.table_name for r in rows} == {"alembic_version", "records", "inbox", "leases"}
    assert set(version) == head_revisions()


def test_there_is_a_single_head_revision() -> None:
    assert len(head_revisions()) == 1
