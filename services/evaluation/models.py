"""Evaluation service tables, all in the PostgreSQL schema ``evaluation``."""

from sqlalchemy.orm import DeclarativeBase

from shared.db import schema_metadata
from shared.events import outbox_table
from shared.idempotency import idempotency_table

SCHEMA = "evaluation"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


# Transactional outbox (ARCHITECTURE rule 4): every change writes its event here in its own transaction.
events = outbox_table(Base.metadata)
# Idempotency-Key records of POSTs (CONVENTIONS: writes).
idempotency_keys = idempotency_table(Base.metadata)
