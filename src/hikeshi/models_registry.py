"""Imports every model module so ``Base.metadata`` is complete (Alembic, tests, start-up)."""

from hikeshi.audit import models as audit_models
from hikeshi.auth import models as auth_models
from hikeshi.board import models as board_models
from hikeshi.db import Base
from hikeshi.jobs import models as jobs_models

__all__ = ["Base", "audit_models", "auth_models", "board_models", "jobs_models"]
