"""Alembic environment: runs against the connection handed in by ``hikeshi.migrate`` or a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from hikeshi.db import make_engine
from hikeshi.models_registry import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER support on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from hikeshi.config import get_settings  # only for bare `alembic` use from a shell

        url = get_settings().effective_database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `hikeshi db upgrade`")
run_migrations_online()
