"""Imports every model module so ``Base.metadata`` is complete (Alembic, tests, start-up)."""

from hikeshi.audit import models as audit_models
from hikeshi.auth import models as auth_models
from hikeshi.board import models as board_models
from hikeshi.cases import models as cases_models
from hikeshi.contacts import models as contacts_models
from hikeshi.db import Base
from hikeshi.incidents import models as incidents_models
from hikeshi.jobs import models as jobs_models
from hikeshi.notify import models as notify_models
from hikeshi.risks import models as risks_models

__all__ = [
    "Base",
    "audit_models",
    "auth_models",
    "board_models",
    "cases_models",
    "contacts_models",
    "incidents_models",
    "jobs_models",
    "notify_models",
    "risks_models",
]
