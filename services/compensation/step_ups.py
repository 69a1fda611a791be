"""C7 grade step-ups sent to the roster as a saga: record the intent, call, confirm, retry safely.

Applying a step-up records one **order** per worker in the same transaction as its event (all or
nothing); only after that commits are the orders sent to the roster, each as
``POST /v1/workers/{id}/posts`` with the order's id as ``Idempotency-Key``, so a retry after a lost answer
is applied once. An order that could not be sent (the roster down, a timeout) stays ``pending`` and is
sent again by ``dispatch_forever`` on every replica (orders are claimed with ``FOR UPDATE SKIP LOCKED``
and a claim that outlives its process is taken over). The roster refusing an order (a 4xx: the worker
left, a grade outside the post's range) ends it ``rejected`` with the reason. No remote call ever runs
inside an open database transaction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import httpx
from sqlalchemy import text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.compensation.models import StepUpOrder

_log = logging.getLogger("shegong.step_up")
CLAIM_SECONDS = 60  # an order being sent is taken over by another dispatcher after this
RETRYABLE = {401, 403, 408, 425, 429}  # credentials being rotated, throttled: try again later


class Credentials(Protocol):
    async def headers(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class Order:
    id: uuid.UUID
    worker_id: uuid.UUID
    post: str
    grade: int
    effective: date


async def record_orders(
    session: AsyncSession, region_code: str, effective: date, decided: Iterable[tuple[str, str, int]], by: str
) -> None:
    """One pending order per (worker, post, new grade); a worker already ordered for this date keeps theirs."""
    rows = [
        {
            "region_code": region_code,
            "worker_id": worker_id,
            "post": post,
            "grade": grade,
            "effective": effective,
            "status": "pending",
            "created_by": by,
        }
        for worker_id, post, grade in decided
    ]
    if rows:
        await session.execute(insert(StepUpOrder).values(rows).on_conflict_do_nothing())


CLAIM_SQL = text(
    """
UPDATE compensation.step_up_orders SET status = 'sending', attempts = attempts + 1,
       claimed_until = now() + make_interval(secs => :claim_seconds)
WHERE id IN (SELECT id FROM compensation.step_up_orders
             WHERE status = 'pending' OR (status = 'sending' AND claimed_until < now())
             ORDER BY created_at, id LIMIT :limit FOR UPDATE SKIP LOCKED)
RETURNING id, worker_id, post, grade, effective
"""
)


async def _claim(engine: AsyncEngine, limit: int) -> list[Order]:
    async with engine.begin() as conn:
        rows = (await conn.execute(CLAIM_SQL, {"limit": limit, "claim_seconds": CLAIM_SECONDS})).all()
    return [Order(*row) for row in rows]


async def _settle(engine: AsyncEngine, order: Order, status: str, error: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error}
    if status == "confirmed":
        values["confirmed_at"] = text("now()")
    async with engine.begin() as conn:
        await conn.execute(update(StepUpOrder).where(StepUpOrder.id == order.id).values(**values))


async def _send(
    http: httpx.AsyncClient, roster_url: str, headers: dict[str, str], order: Order
) -> tuple[str, str | None]:
    """The order to the roster: (``confirmed`` | ``rejected`` | ``pending``, why)."""
    try:
        response = await http.post(
            f"{roster_url}/v1/workers/{order.worker_id}/posts",
            json={"post": order.post, "grade": order.grade, "start_date": order.effective.isoformat()},
            headers=headers | {"Idempotency-Key": f"step-up-{order.id}"},
            timeout=10,
        )
    except httpx.HTTPError as exc:  # the roster unreachable, a lost answer: the same key again later
        return "pending", f"{type(exc).__name__}: {exc}"[:300]
    if response.status_code == 201:
        return "confirmed", None
    if response.status_code >= 500 or response.status_code in RETRYABLE:
        return "pending", f"roster answered {response.status_code}"
    return "rejected", f"roster answered {response.status_code}: {response.text}"[:300]


async def dispatch(
    engine: AsyncEngine, http: httpx.AsyncClient, credentials: Credentials | None, roster_url: str, limit: int = 100
) -> int:
    """Send pending orders until none is left to claim (or one fails to send); the number confirmed."""
    confirmed = 0
    while orders := await _claim(engine, limit):
        headers = await credentials.headers() if credentials else {}
        stalled = False
        for order in orders:
            status, error = await _send(http, roster_url, headers, order)
            await _settle(engine, order, status, error)
            confirmed += status == "confirmed"
            stalled |= status == "pending"
        if stalled:  # the roster is not taking orders now: the next round tries again
            break
    return confirmed


async def dispatch_forever(
    engine: AsyncEngine, http: httpx.AsyncClient, credentials: Credentials | None, roster_url: str, interval: float
) -> None:
    while True:
        try:
            await dispatch(engine, http, credentials, roster_url)
        except (DBAPIError, OSError, httpx.HTTPError):
            _log.exception("could not send step-up orders")
        await asyncio.sleep(interval)
