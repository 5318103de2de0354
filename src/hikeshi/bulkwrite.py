"""Many rows into one table, as fast as the database allows, inside the caller's transaction.

On PostgreSQL the ids are taken from the table's sequence in one query and the rows go in with
``COPY … FROM STDIN`` (what ``pg_dump`` restores with: no per-row statement, no per-row
parameter parsing). Elsewhere (SQLite) it is one executemany INSERT … RETURNING. Constraints,
defaults of the sequence and triggers apply as for any insert; the caller supplies every column
but the id. JSON columns take already-serialised text on the COPY path (``json_columns``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, insert, text
from sqlalchemy.exc import IntegrityError

_SEQUENCES: dict[str, str] = {}  # table → its id sequence; fixed by the schema


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    columns: Sequence[str],
    json_columns: frozenset[str] = frozenset(),
    need_ids: bool = True,
) -> list[int]:
    """Insert ``rows`` (each with every name in ``columns``); returns their new ids in order
    (an empty list with ``need_ids=False``, which saves a round trip on PostgreSQL)."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql" and not need_ids:
        _copy(conn, table, rows, columns, json_columns, None)
        return []
    if conn.dialect.name != "postgresql":
        result = conn.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [{c: row[c] for c in columns} for row in rows],
        )
        return [int(i) for i in result.scalars()]
    sequence = _SEQUENCES.get(table.name)
    if sequence is None:
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar_one()
        _SEQUENCES[table.name] = sequence
    ids = [
        int(i)
        for i in conn.execute(
            text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": sequence, "n": len(rows)}
        ).scalars()
    ]
    _copy(conn, table, rows, columns, json_columns, ids)
    return ids


def _copy(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    json_columns: frozenset[str],
    ids: list[int] | None,
) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    names = ", ".join(["id", *columns] if ids is not None else columns)
    statement = f"COPY {table.name} ({names}) FROM STDIN"
    try:
        with raw.cursor() as cur, cur.copy(statement) as copy:
            for n, row in enumerate(rows):
                values = [
                    _json_text(row[c]) if c in json_columns else _plain(row[c]) for c in columns
                ]
                copy.write_row([ids[n], *values] if ids is not None else values)
    except psycopg.errors.IntegrityError as exc:
        # Callers catch SQLAlchemy's exception (a lost idempotency race is retried), as for
        # any insert made through SQLAlchemy.
        raise IntegrityError(statement, None, exc) from exc


def _plain(value: Any) -> Any:
    # psycopg would dump an Enum by its name; the tables store values ("P3", not "p3").
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given to a timestamp column")
    return value


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
