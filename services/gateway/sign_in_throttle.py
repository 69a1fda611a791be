"""Slowing down repeated failed password sign-ins: per account, and per address at a higher threshold.

Counted from the audit log itself (``sign_in_failed`` rows of the ``password`` grant): per account since
its last successful sign-in within ``signin_failure_window_seconds``, per address within the window.
After ``signin_max_failures`` failures of one account, each further attempt must wait 2^(n − max)
seconds after the last failure (capped at ``signin_max_delay_seconds``): 429 with ``Retry-After`` until
then. An address is slowed down the same way only after ``signin_address_max_failures`` failures (any
accounts): one office behind one NAT address shares it, and its colleagues' typos must not lock it out,
while a password spray across many accounts from one address is still slowed down. The address is the
one :mod:`services.gateway.client_address` resolves (forwarded headers only from trusted proxies).

Failed ``client_credentials`` sign-ins are audited but counted against nothing: a client secret is 256
random bits that no one guesses, and a service still holding a just-rotated secret must not make its
own address (often shared with people and other services) wait once it has the right one.
Counting in PostgreSQL makes the limits hold across gateway replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.audit import AuditAction
from services.gateway.models import AuditEvent

PASSWORD_GRANT = "password"


@dataclass(frozen=True)
class Thresholds:
    account_failures: int
    address_failures: int
    window_seconds: int
    max_delay_seconds: int


def delay_seconds(failures: int, threshold: int, max_delay: int) -> int:
    """Seconds to wait after the last failure: 0 below the threshold, then 1, 2, 4 … up to ``max_delay``."""
    if failures < threshold:
        return 0
    return int(min(2 ** min(failures - threshold, 30), max_delay))


async def _failures(session: AsyncSession, where: ColumnElement[bool], since: datetime) -> tuple[int, datetime | None]:
    row = (
        await session.execute(
            select(func.count(), func.max(AuditEvent.occurred_at)).where(
                AuditEvent.action == AuditAction.sign_in_failed,
                AuditEvent.details["grant_type"].astext == PASSWORD_GRANT,
                AuditEvent.occurred_at > since,
                where,
            )
        )
    ).one()
    return int(row[0]), row[1]


async def wait_seconds(session: AsyncSession, *, account: str, address: str | None, limits: Thresholds) -> int:
    """Seconds to wait before the next password attempt may be checked (0: go ahead)."""
    now = datetime.now(UTC)
    window_start = now - timedelta(seconds=limits.window_seconds)
    last_success = await session.scalar(
        select(func.max(AuditEvent.occurred_at)).where(
            AuditEvent.action == AuditAction.sign_in, AuditEvent.details["username"].astext == account
        )
    )
    since = max(window_start, last_success) if last_success is not None else window_start
    checks = [(AuditEvent.subject == account, since, limits.account_failures)]
    if address is not None:
        checks.append((AuditEvent.ip == address, window_start, limits.address_failures))
    wait = 0.0
    for where, start, threshold in checks:
        count, last = await _failures(session, where, start)
        delay = delay_seconds(count, threshold, limits.max_delay_seconds)
        if delay and last is not None:
            wait = max(wait, (last + timedelta(seconds=delay) - now).total_seconds())
    return max(0, int(wait + 0.999))
