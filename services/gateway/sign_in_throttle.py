"""Slowing down repeated failed sign-ins, per account and per address.

Counted from the audit log itself (``sign_in_failed`` rows): per account since its last successful
sign-in, per address in the window. After ``signin_max_failures`` failures within
``signin_failure_window_seconds``, each further attempt must wait 2^(n − max) seconds after the last
failure (capped at ``signin_max_delay_seconds``): 429 with ``Retry-After`` until then. Counting in
PostgreSQL makes the limit hold across gateway replicas.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.audit import AuditAction
from services.gateway.models import AuditEvent


async def _failures(session: AsyncSession, column: str, value: str, since: datetime) -> tuple[int, datetime | None]:
    col = AuditEvent.subject if column == "subject" else AuditEvent.ip
    if column == "subject":
        last_success = await session.scalar(
            select(func.max(AuditEvent.occurred_at)).where(
                AuditEvent.action == AuditAction.sign_in, AuditEvent.details["username"].astext == value
            )
        )
        if last_success is not None and last_success > since:
            since = last_success
    row = (
        await session.execute(
            select(func.count(), func.max(AuditEvent.occurred_at)).where(
                AuditEvent.action == AuditAction.sign_in_failed, col == value, AuditEvent.occurred_at > since
            )
        )
    ).one()
    return int(row[0]), row[1]


async def wait_seconds(
    session: AsyncSession,
    *,
    account: str,
    address: str | None,
    max_failures: int,
    window_seconds: int,
    max_delay_seconds: int,
) -> int:
    """Seconds to wait before the next attempt may be checked (0: go ahead)."""
    now = datetime.now(UTC)
    since = now - timedelta(seconds=window_seconds)
    wait = 0.0
    for column, value in (("subject", account), ("ip", address)):
        if value is None:
            continue
        count, last = await _failures(session, column, value, since)
        if count >= max_failures and last is not None:
            delay = min(2 ** (count - max_failures), max_delay_seconds)
            wait = max(wait, (last + timedelta(seconds=delay) - now).total_seconds())
    return max(0, int(wait + 0.999))
