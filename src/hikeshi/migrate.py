"""Schema migrations and the start-up check that the database matches the code."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from hikeshi.errors import DatabaseNotReady


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "hikeshi:migrations")
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads; merge them")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def ensure_current(engine: Engine) -> None:
    """Refuse to serve a database that is missing or older than the code."""
    try:
        tables = inspect(engine).get_table_names()
    except Exception as exc:
        raise DatabaseNotReady(
            f"cannot connect to the database ({type(exc).__name__}: {exc}); "
            "check HIKESHI_DATABASE_URL, then run `hikeshi db upgrade`",
            message_ja=(
                "データベースに接続できません。設定を確認し `hikeshi db upgrade` を実行してください"
            ),
        ) from exc
    if "alembic_version" not in tables:
        raise DatabaseNotReady(
            "the database has no Hikeshi schema; run `hikeshi db upgrade`",
            message_ja="データベースが未作成です。`hikeshi db upgrade` を実行してください",
        )
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise DatabaseNotReady(
            f"the database is at revision {current}, the code needs {head}; "
            "run `hikeshi db upgrade`",
            message_ja="データベースが古い版です。`hikeshi db upgrade` を実行してください",
        )
