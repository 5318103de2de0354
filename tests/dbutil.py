"""Creating throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import atexit
import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import Connection, create_engine, make_url, text

from hikeshi import migrate
from hikeshi.audit import append_only
from hikeshi.db import make_engine

PG_ENV = "HIKESHI_TEST_DATABASE_URL"


def ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


_templates: dict[str, str] = {}  # backend → a migrated database to copy (one per test run)


def _sqlite_template(tmp_dir: Path) -> Path:
    if "sqlite" not in _templates:
        path = tmp_dir / f"template-{uuid.uuid4().hex[:8]}.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        _templates["sqlite"] = str(path)
    return Path(_templates["sqlite"])


def _pg_template(admin: str) -> str:
    if "postgresql" not in _templates:
        name = f"hikeshi_tpl_{uuid.uuid4().hex[:12]}"
        base = make_url(admin).set(drivername="postgresql+psycopg")
        eng = create_engine(base, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
        migrate.upgrade(engine)
        engine.dispose()  # a template must have no connections while it is copied
        _templates["postgresql"] = name
        atexit.register(_drop_pg_template, admin, name)
    return _templates["postgresql"]


def _drop_pg_template(admin: str, name: str) -> None:
    eng = create_engine(
        make_url(admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def create_database(tmp_dir: Path) -> str:
    """A new, migrated, empty database; returns its URL.

    Each is a copy of one database migrated once per run (a file copy on SQLite, ``CREATE
    DATABASE … TEMPLATE`` on PostgreSQL): the same schema as running the migrations, in a
    fraction of the time. tests/integration/db/test_migrations.py still migrates from empty.
    """
    admin = pg_admin_url()
    if admin is None:
        url_path = tmp_dir / f"hikeshi-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copyfile(_sqlite_template(tmp_dir), url_path)
        return f"sqlite:///{url_path}"
    template = _pg_template(admin)
    name = f"hikeshi_t_{uuid.uuid4().hex[:12]}"
    base = make_url(admin).set(drivername="postgresql+psycopg")
    eng = create_engine(base, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    eng.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def create_migrated_from_empty(tmp_dir: Path) -> str:
    """A new database migrated step by step from empty (for the migration tests)."""
    admin = pg_admin_url()
    if admin is None:
        url = f"sqlite:///{tmp_dir / f'hikeshi-{uuid.uuid4().hex[:8]}.sqlite3'}"
    else:
        name = f"hikeshi_t_{uuid.uuid4().hex[:12]}"
        base = make_url(admin).set(drivername="postgresql+psycopg")
        eng = create_engine(base, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = pg_admin_url()
    assert admin is not None
    eng = create_engine(
        make_url(admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    eng.dispose()


def tamper_mode(conn: Connection) -> None:
    """Play the attacker: get past the append-only triggers on ``audit_events``.

    PostgreSQL: superuser skips triggers for this session; SQLite: drop them (file access).
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET session_replication_role = replica")
    else:
        append_only.remove(conn)
