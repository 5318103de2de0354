"""Database triggers that make ``audit_events`` append-only.

The hash chain detects tampering; these triggers stop the casual kind (an UPDATE typed into a
console, a buggy migration) before it happens. Whoever can drop a trigger can still edit rows,
which is exactly what ``hikeshi audit verify`` is for.
"""

from __future__ import annotations

from sqlalchemy import Connection

_SQLITE = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
_POSTGRES = [
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
       ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]


def install(conn: Connection) -> None:
    for stmt in _POSTGRES if conn.dialect.name == "postgresql" else _SQLITE:
        conn.exec_driver_sql(stmt)


def remove(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
