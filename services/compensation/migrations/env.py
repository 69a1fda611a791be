"""Alembic environment of the compensation service (async, own schema, own version table)."""

from services.compensation.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
