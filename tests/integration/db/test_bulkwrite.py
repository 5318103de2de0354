"""bulkwrite.insert_rows: COPY on PostgreSQL, executemany elsewhere; same results on both."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.exc import IntegrityError

from hikeshi.auth.models import Organisation
from hikeshi.bulkwrite import insert_rows
from hikeshi.contacts.models import Channel, Contact, Customer, Priority

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _org(connection: Connection) -> int:
    table: Table = Organisation.__table__  # type: ignore[assignment]
    values = {"slug": "bulk", "name": "一括", "created_at": NOW}
    values = {k: v for k, v in values.items() if k in table.c}
    return int(
        connection.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
    )


def _customer(org_id: int, n: int) -> dict[str, object]:
    return {
        "org_id": org_id,
        "name": f"顧客{n}",
        "name_kana": "",
        "phone_e164": f"+8135555{n:04d}",
        "email": None,
        "notes": "改行\nとタブ\tと\\バックスラッシュ",  # COPY's text format escapes these
        "created_at": NOW,
        "updated_at": NOW,
    }


def test_ids_come_back_in_row_order_and_values_round_trip(connection: Connection) -> None:
    org_id = _org(connection)
    columns = [c.key for c in CUSTOMERS.columns if c.key != "id"]
    rows = [_customer(org_id, n) for n in range(25)]
    ids = insert_rows(connection, CUSTOMERS, rows, columns=columns)
    assert len(ids) == 25 and ids == sorted(ids) and len(set(ids)) == 25
    stored = {r.id: r for r in connection.execute(select(CUSTOMERS))}
    for n, new_id in enumerate(ids):
        assert stored[new_id].name == f"顧客{n}"
        assert stored[new_id].notes == "改行\nとタブ\tと\\バックスラッシュ"
        assert stored[new_id].created_at == NOW


def test_enums_are_stored_by_value_and_a_duplicate_key_is_an_integrity_error(
    connection: Connection,
) -> None:
    org_id = _org(connection)
    columns = [c.key for c in CONTACTS.columns if c.key != "id"]
    row = {c: None for c in columns} | {
        "org_id": org_id,
        "idempotency_key": "dup",
        "channel": Channel.phone_in,
        "priority": Priority.p1,
        "status": "open",
        "subject": "件名",
        "notes": "",
        "transcript": "",
        "operator_label": "",
        "source": "test",
        "started_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }
    [contact_id] = insert_rows(connection, CONTACTS, [row], columns=columns)
    stored = connection.execute(select(CONTACTS).where(CONTACTS.c.id == contact_id)).one()
    assert stored.priority == Priority.p1 and stored.channel == Channel.phone_in
    savepoint = connection.begin_nested()
    with pytest.raises(IntegrityError):
        insert_rows(connection, CONTACTS, [row], columns=columns)
    savepoint.rollback()


def test_naive_datetimes_are_refused(connection: Connection) -> None:
    org_id = _org(connection)
    columns = [c.key for c in CUSTOMERS.columns if c.key != "id"]
    row = _customer(org_id, 1) | {"created_at": datetime(2026, 11, 23, 9, 0)}
    with pytest.raises(Exception, match="naive"):  # ValueError, or wrapped by SQLAlchemy
        insert_rows(connection, CUSTOMERS, [row], columns=columns)
