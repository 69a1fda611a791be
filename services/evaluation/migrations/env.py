"""Alembic environment of the evaluation service (async, own schema, own version table)."""

from services.evaluation.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
