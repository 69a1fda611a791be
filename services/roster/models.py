"""Roster service tables, all in the PostgreSQL schema ``roster``."""

from sqlalchemy.orm import DeclarativeBase

from shared.db import schema_metadata
from shared.events import outbox_table

SCHEMA = "roster"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


# Transactional outbox (ARCHITECTURE rule 4): every change writes its event here in its own transaction.
events = outbox_table(Base.metadata)
