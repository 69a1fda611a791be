"""Alembic environment of the gateway (async, own schema, own version table)."""

from services.gateway.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
