"""Roster service tables, all in the PostgreSQL schema ``roster``."""

from shared.db import declarative_base
from shared.events import outbox_table

SCHEMA = "roster"
Base = declarative_base(SCHEMA)

# Transactional outbox (ARCHITECTURE rule 4): every change writes its event here in its own transaction.
events = outbox_table(Base.metadata)
