"""Alembic environment of the roster service (async, own schema, own version table)."""

from services.roster.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
