"""Gateway tables, all in the PostgreSQL schema ``gateway`` (identity and audit live here)."""

from shared.db import declarative_base

SCHEMA = "gateway"
Base = declarative_base(SCHEMA)
