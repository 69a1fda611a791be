"""The tables every domain service keeps in its own schema beside its own: the transactional outbox
(ARCHITECTURE rule 4: every change writes its event in its own transaction), the Idempotency-Key records of
POSTs (CONVENTIONS: writes) and where the service is in the feeds it consumes."""

from typing import NamedTuple

from sqlalchemy import MetaData, Table

from shared.events import outbox_table
from shared.feed_consumer import feed_cursors_table
from shared.idempotency import idempotency_table


class ServiceTables(NamedTuple):
    events: Table
    idempotency_keys: Table
    feed_cursors: Table


def service_tables(metadata: MetaData) -> ServiceTables:
    return ServiceTables(outbox_table(metadata), idempotency_table(metadata), feed_cursors_table(metadata))
