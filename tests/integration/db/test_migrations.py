"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hikeshi import migrate
from hikeshi.db import make_engine
from hikeshi.models_registry import Base
from tests.dbutil import create_migrated_from_empty, drop_database


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    db_url = create_migrated_from_empty(tmp_path)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert migrate.current_revision(engine) == migrate.head_revision()
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
        drop_database(db_url)
    assert diff == [], f"models and migrations differ: {diff}"
