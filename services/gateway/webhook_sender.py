"""The delivery worker: sends due webhook deliveries, signed (Standard Webhooks), and records each try.

A pass claims due rows with ``FOR UPDATE SKIP LOCKED`` and moves their next try a lease ahead, then
commits: replicas never send the same row at once, and no HTTP call runs inside a transaction. Each
answer is recorded in its own transaction: 2xx delivers; anything else (or no answer) schedules the
next try by the retry schedule with jitter, or parks the delivery once the schedule is spent (WH4).
The schedule lives in the database (attempts, next_attempt_at), so it survives restarts; a sender that
dies mid-send leaves the row to be tried again when its lease ends. Every try of one event carries the
same ``webhook-id``, so receivers dedupe (WH3).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.domain.webhooks import retry_delay, signature
from services.gateway.models import WebhookDelivery, WebhookSubscription
from services.gateway.webhook_secrets import InvalidToken, SecretBox

_log = logging.getLogger("shegong.webhooks")
_jitter = random.SystemRandom()


@dataclass(frozen=True)
class Claimed:
    id: int
    webhook_id: str
    url: str
    secrets: tuple[str, ...]
    body: str
    attempts: int


@dataclass(frozen=True)
class SenderConfig:
    schedule: Sequence[float]
    batch_size: int
    lease: timedelta
    timeout_seconds: float
    secrets: SecretBox  # opens the subscriptions' sealed secrets


def sender_config(settings: Any, secrets: SecretBox) -> SenderConfig:
    """The worker's configuration from the gateway's settings, opening secrets with the app's box."""
    return SenderConfig(
        schedule=tuple(settings.webhook_retry_seconds),
        batch_size=settings.webhook_batch_size,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
        timeout_seconds=settings.webhook_timeout_seconds,
        secrets=secrets,
    )


def body_of(payload: dict[str, Any]) -> str:
    """The exact text sent and signed."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


async def claim_due(maker: async_sessionmaker[AsyncSession], config: SenderConfig) -> list[Claimed]:
    """Due deliveries of active subscriptions, leased to this pass."""
    now = datetime.now(UTC)
    async with maker() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery, WebhookSubscription)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= func.clock_timestamp(),
                    WebhookSubscription.active,
                )
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(config.batch_size)
                .with_for_update(of=WebhookDelivery, skip_locked=True)
            )
        ).all()
        claimed = []
        for delivery, subscription in rows:
            delivery.next_attempt_at = now + config.lease
            stored = [subscription.secret]
            until = subscription.previous_secret_until
            if subscription.previous_secret and until is not None and until > now:
                stored.append(subscription.previous_secret)  # WH3: both sign during the overlap
            try:
                keys = [config.secrets.open(s) for s in stored]
            except InvalidToken:  # a key dropped too early: the delivery waits a lease, it is not lost
                _log.error(
                    "a webhook secret opens with no configured key", extra={"subscription": str(subscription.id)}
                )
                continue
            claimed.append(
                Claimed(
                    delivery.id,
                    delivery.webhook_id,
                    subscription.url,
                    tuple(keys),
                    body_of(delivery.payload),
                    delivery.attempts,
                )
            )
        await session.commit()
    return claimed


async def send(client: httpx.AsyncClient, item: Claimed, timeout: float) -> tuple[int, str | None]:
    """One try: (the receiver's status, 0 when none came; an error text when it failed)."""
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": item.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(item.secrets, item.webhook_id, now, item.body),
        "user-agent": "shegong-webhooks/1",
        # Safe to repeat: the same id on every try (receivers dedupe).
        "x-request-id": f"{item.webhook_id}.{uuid.uuid4().hex[:8]}",
    }
    try:
        response = await client.post(
            item.url, content=item.body.encode(), headers=headers, timeout=timeout, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        return 0, f"{type(exc).__name__}: {str(exc)[:200]}"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


async def record_outcome(
    maker: async_sessionmaker[AsyncSession], item: Claimed, status: int, error: str | None, config: SenderConfig
) -> None:
    attempts = item.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "status_codes": func.array_append(WebhookDelivery.status_codes, status),
        "last_error": error,
    }
    if error is None:
        values |= {"status": "delivered", "delivered_at": func.now(), "next_attempt_at": None}
    else:
        delay = retry_delay(attempts, config.schedule, _jitter.random())
        if delay is None:
            values |= {"status": "parked", "next_attempt_at": None}
        else:
            values["next_attempt_at"] = datetime.now(UTC) + timedelta(seconds=delay)
    async with maker() as session:
        # Only the pass that holds the lease records (a redelivery in between starts afresh).
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == item.id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.attempts == item.attempts,
            )
            .values(**values)
        )
        await session.commit()


async def deliver_due_once(
    maker: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, config: SenderConfig
) -> int:
    """One pass: claim, send concurrently, record; returns how many were tried."""
    claimed = await claim_due(maker, config)
    # Sent concurrently (a pass lasts at most one timeout however many receivers are slow); recorded one by one.
    outcomes = await asyncio.gather(*(send(client, item, config.timeout_seconds) for item in claimed))
    for item, (status, error) in zip(claimed, outcomes, strict=True):
        await record_outcome(maker, item, status, error, config)
    return len(claimed)


async def deliver_forever(maker_of: Any, client: httpx.AsyncClient, config: SenderConfig, poll_seconds: float) -> None:
    """Until cancelled: a pass at once while passes are full, else every ``poll_seconds``."""
    while True:
        try:
            tried = await deliver_due_once(maker_of(), client, config)
            if tried >= config.batch_size:
                continue
        except asyncio.CancelledError:
            raise
        except Exception:  # the database away: log and try again
            _log.exception("webhook delivery pass failed")
        await asyncio.sleep(poll_seconds)
