"""Webhook subscriptions, their secrets and their delivery logs: the use cases behind
``/api/v1/webhooks/…`` (docs/webhooks.md, WH1–WH5), one transaction each (the request's).

A subscription belongs to the account that made it (a user, or an API client such as a provincial
platform): no one else sees it (404). Its region lies inside the caller's reading scope (WH1, WH5), its
URL is http(s) and not loopback unless the deployment allows it (WH2). Its secret is shown once, on
creation and on rotation; after a rotation the previous secret also signs for the overlap window (WH3).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.domain.webhooks import RULE_OWNER_SCOPE, RULE_URL, new_secret, url_problem
from services.gateway.models import ApiClient, WebhookDelivery, WebhookSubscription
from services.gateway.schemas import DeliveryOut, SubscriptionCreate, SubscriptionOut, SubscriptionPatch
from services.gateway.webhook_secrets import InvalidToken, SecretBox
from shared.auth import Principal
from shared.i18n import Message
from shared.pagination import Page, PageAt, decode_cursor, encode_cursor, fetch_page
from shared.problems import FieldError, Forbidden, NotFound, UnprocessableContent
from shared.read_models import from_row
from shared.scoping import READ_ROLES, sees_region

_log = logging.getLogger("shegong.webhooks")

NO_SUCH_SUBSCRIPTION = Message("订阅不存在", "No such subscription")
NO_SUCH_DELIVERY = Message("投递记录不存在", "No such delivery")


@dataclass(frozen=True)
class WebhookPolicy:
    """What the deployment allows (gateway settings)."""

    allow_loopback: bool
    secret_overlap: timedelta
    secrets: SecretBox  # seals the secrets at rest (services.gateway.webhook_secrets)


def _invalid(field: str, message: Message, rule: str) -> UnprocessableContent:
    return UnprocessableContent(
        Message("{field}：{zh}", "{field}: {en}"),
        rule=rule,
        errors=[FieldError.of(field, message, rule=rule)],
        field=field,
        zh=message.zh,
        en=message.en,
    )


def _check_url(url: str, policy: WebhookPolicy) -> None:
    problem = url_problem(url, policy.allow_loopback)
    if problem is not None:
        raise _invalid("url", problem, RULE_URL)


def _check_region(principal: Principal, region: str) -> None:
    """WH1/WH5: a subscriber receives only what it may read; a region outside its scope does not exist for it."""
    if not sees_region(principal, region, READ_ROLES):
        message = Message(f"区划不存在：{region}", f"No such region: {region}")
        raise NotFound(
            message,
            rule=RULE_OWNER_SCOPE,
            errors=[FieldError.of("region_code", message, rule=RULE_OWNER_SCOPE, type="not_found")],
        )


async def _owner(session: AsyncSession, principal: Principal) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(user id, API client pk) of the caller: subscriptions belong to accounts the gateway knows."""
    kind, _, name = principal.subject.partition(":")
    if kind == "user":
        return uuid.UUID(name), None
    client_pk = await session.scalar(select(ApiClient.id).where(ApiClient.client_id == name))
    if kind != "client" or client_pk is None:
        raise Forbidden(Message("只有账号或接入客户端可订阅", "Only accounts and API clients may subscribe"))
    return None, client_pk


def subscription_out(row: WebhookSubscription) -> SubscriptionOut:
    now = datetime.now(UTC)
    until = row.previous_secret_until if row.previous_secret_until and row.previous_secret_until > now else None
    return from_row(SubscriptionOut, row, previous_secret_until=until)


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    return from_row(DeliveryOut, row, parked=row.status == "parked")


async def create_subscription(
    session: AsyncSession, principal: Principal, body: SubscriptionCreate, policy: WebhookPolicy
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (shown this once)."""
    _check_url(body.url, policy)
    _check_region(principal, body.region_code)
    user_id, client_pk = await _owner(session, principal)
    secret = new_secret(secrets.token_bytes(32))
    row = WebhookSubscription(
        owner=principal.subject,
        owner_user_id=user_id,
        owner_client_pk=client_pk,
        url=body.url,
        event_types=sorted(set(body.event_types)),
        region_code=body.region_code,
        secret=policy.secrets.seal(secret),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row, secret


async def own_subscription(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, *, lock: bool = False
) -> WebhookSubscription:
    query = select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id, WebhookSubscription.owner == principal.subject
    )
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(NO_SUCH_SUBSCRIPTION)
    return row


async def list_subscriptions(at: PageAt, principal: Principal) -> Page[SubscriptionOut]:
    filters = {"owner": principal.subject}
    query = (
        select(WebhookSubscription)
        .where(WebhookSubscription.owner == principal.subject)
        .order_by(WebhookSubscription.id)
    )
    if at.cursor:
        (after,) = decode_cursor(at.cursor, filters, (uuid.UUID,))
        query = query.where(WebhookSubscription.id > after)
    rows, more = await fetch_page(at.session, query, at.limit)
    next_cursor = encode_cursor([str(rows[-1].id)], filters) if more else None
    return Page[SubscriptionOut](items=[subscription_out(r) for r in rows], next_cursor=next_cursor)


async def update_subscription(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    body: SubscriptionPatch,
    policy: WebhookPolicy,
) -> WebhookSubscription:
    row = await own_subscription(session, principal, subscription_id, lock=True)
    if body.url is not None:
        _check_url(body.url, policy)
        row.url = body.url
    if body.region_code is not None:
        _check_region(principal, body.region_code)
        row.region_code = body.region_code
    if body.event_types is not None:
        row.event_types = sorted(set(body.event_types))
    if body.active is not None:
        row.active = body.active
    row.updated_at = func.now()
    row.version += 1
    await session.flush()
    await session.refresh(row)
    return row


async def delete_subscription(session: AsyncSession, principal: Principal, subscription_id: uuid.UUID) -> None:
    """The subscription and its delivery log; nothing more is sent to it."""
    row = await own_subscription(session, principal, subscription_id, lock=True)
    await session.delete(row)


async def rotate_secret(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, policy: WebhookPolicy
) -> tuple[WebhookSubscription, str]:
    """WH3: a new secret signs from now on; the one it replaces also signs until the overlap ends."""
    row = await own_subscription(session, principal, subscription_id, lock=True)
    secret = new_secret(secrets.token_bytes(32))
    row.previous_secret, row.secret = row.secret, policy.secrets.seal(secret)
    row.previous_secret_until = datetime.now(UTC) + policy.secret_overlap
    row.updated_at = func.now()
    row.version += 1
    await session.flush()
    await session.refresh(row)
    return row, secret


async def list_deliveries(at: PageAt, principal: Principal, subscription_id: uuid.UUID) -> Page[DeliveryOut]:
    """The delivery log of one subscription, newest first."""
    await own_subscription(at.session, principal, subscription_id)
    filters = {"subscription": str(subscription_id)}
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())
    )
    if at.cursor:
        (before,) = decode_cursor(at.cursor, filters, (int,))
        query = query.where(WebhookDelivery.id < before)
    rows, more = await fetch_page(at.session, query, at.limit)
    next_cursor = encode_cursor([rows[-1].id], filters) if more else None
    return Page[DeliveryOut](items=[delivery_out(r) for r in rows], next_cursor=next_cursor)


async def redeliver(session: AsyncSession, principal: Principal, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again from the start of the retry schedule (a parked one, or one already
    delivered that the receiver lost); the webhook-id stays the same, so a receiver that has it dedupes."""
    row = await session.scalar(
        select(WebhookDelivery)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id == delivery_id, WebhookSubscription.owner == principal.subject)
        .with_for_update(of=WebhookDelivery)
    )
    if row is None:
        raise NotFound(NO_SUCH_DELIVERY)
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = func.now()
    row.delivered_at = None
    await session.flush()
    await session.refresh(row)
    return row


async def reseal_secrets(maker: async_sessionmaker[AsyncSession], box: SecretBox) -> int:
    """Seal with the first key every stored secret that is not (stored before sealing, or under an older key),
    at start-up; how many were. A secret no configured key opens is left as it is and logged (its deliveries
    wait: put the key back, or rotate the subscription's secret). A database that does not answer is not a
    reason to refuse to start: the next start seals them, and meanwhile they open as they are."""
    changed = 0
    try:
        async with maker() as session:
            rows = (await session.scalars(select(WebhookSubscription).with_for_update())).all()
            for row in rows:
                for column in ("secret", "previous_secret"):
                    stored = getattr(row, column)
                    if stored is None:
                        continue
                    try:
                        sealed = box.resealed(stored)
                    except InvalidToken:
                        _log.error("a webhook secret opens with no key", extra={"subscription": str(row.id)})
                        continue
                    if sealed is not None:
                        setattr(row, column, sealed)
                        changed += 1
            await session.commit()
    except (DBAPIError, OSError):
        _log.exception("could not reseal the webhook secrets")
    return changed
