"""Webhook subscriptions the hub holds at vendors: rows <-> :class:`SubscriptionRow`.

One row per vendor-side object (a Jira webhook id, a Google channel id, a Graph
subscription id). Rows outlive the process, so a restart renews what exists instead of
registering a duplicate, and the intake can tell our channels from strangers'.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, select

from app.storage.protocol import SubscriptionRow
from app.storage.sql import upsert
from app.storage.tables import subscriptions

__all__ = ["delete_subscription", "get_subscription", "list_subscriptions", "put_subscription"]


def _to_row(row: Row[Any]) -> SubscriptionRow:
    m = row._mapping
    return SubscriptionRow(
        vendor=m["vendor"],
        external_id=m["external_id"],
        connector=m["connector"],
        stream=m["stream"],
        partition=m["partition"],
        resource=m["resource"],
        address=m["address"],
        status=m["status"],
        expires_at=m["expires_at"],
        created_at=m["created_at"],
        renewed_at=m["renewed_at"],
        last_error=m["last_error"],
    )


def put_subscription(conn: Connection, row: SubscriptionRow) -> None:
    upsert(
        conn,
        subscriptions,
        {
            "vendor": row.vendor,
            "external_id": row.external_id,
            "connector": row.connector,
            "stream": row.stream,
            "partition": row.partition,
            "resource": row.resource,
            "address": row.address,
            "status": row.status,
            "expires_at": row.expires_at,
            "created_at": row.created_at,
            "renewed_at": row.renewed_at,
            "last_error": row.last_error,
        },
        ["vendor", "external_id"],
    )


def get_subscription(conn: Connection, vendor: str, external_id: str) -> SubscriptionRow | None:
    c = subscriptions.c
    stmt = select(subscriptions).where(c.vendor == vendor, c.external_id == external_id)
    found = conn.execute(stmt).first()
    return None if found is None else _to_row(found)


def list_subscriptions(conn: Connection, connector: str | None, status: str | None) -> list[SubscriptionRow]:
    c = subscriptions.c
    stmt = select(subscriptions).order_by(c.connector, c.stream, c.partition, c.created_at)
    if connector is not None:
        stmt = stmt.where(c.connector == connector)
    if status is not None:
        stmt = stmt.where(c.status == status)
    return [_to_row(r) for r in conn.execute(stmt)]


def delete_subscription(conn: Connection, vendor: str, external_id: str) -> bool:
    c = subscriptions.c
    result = conn.execute(delete(subscriptions).where(c.vendor == vendor, c.external_id == external_id))
    return result.rowcount == 1
