"""Following the services' change feeds for webhooks: each event that a subscription takes becomes a
delivery row, written in the same transaction as the feed cursor that passed it (shared.feed_consumer),
so a gateway that dies loses nothing and, the rows being unique per (subscription, source, event), a
page read twice records nothing twice.

The gateway follows the feeds because it holds the subscribers (accounts, API clients and their grants)
and is already the one public face of the suite; the services stay unaware of who listens
(docs/architecture.md). It reads them with a short-lived ``service`` token it signs for itself.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.domain.webhooks import matches, webhook_id
from services.gateway.models import ApiClient, Grant, User, WebhookDelivery, WebhookSubscription, feed_cursors
from services.gateway.tokens import issue_access_token
from services.gateway.worker_lookup import gateway_principal
from shared.feed_consumer import FeedConsumer, Handler
from shared.regions import contains
from shared.scoping import READ_ROLES

FEED_TOKEN_TTL_SECONDS = 300
READ_RIGHTS = sorted(role.value for role in READ_ROLES)


class GatewayCredentials:
    """The gateway's own ``service`` token for reading feeds: signed with its keys, no client secret."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def headers(self) -> dict[str, str]:
        state = self.app.state
        principal = gateway_principal(state.settings.province_code)
        return {"Authorization": f"Bearer {issue_access_token(state.signing_keys, principal, FEED_TOKEN_TTL_SECONDS)}"}


class FeedState:
    """What a FeedConsumer reads per poll, from the gateway's app state and with the gateway's credentials."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.service_credentials = GatewayCredentials(app)

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        maker: async_sessionmaker[AsyncSession] = self.app.state.sessionmaker
        return maker

    @property
    def http(self) -> httpx.AsyncClient:
        client: httpx.AsyncClient = self.app.state.http
        return client


async def _subscribers(session: AsyncSession, event_type: str) -> list[WebhookSubscription]:
    """Active subscriptions taking ``event_type`` whose owner is an active account still holding a reading
    role over the subscription's region (WH5): a revoked grant stops deliveries at once."""
    subscriptions = list(
        (
            await session.scalars(
                select(WebhookSubscription).where(
                    WebhookSubscription.active,
                    or_(
                        WebhookSubscription.event_types.any_() == event_type,
                        WebhookSubscription.event_types.any_() == "*",
                    ),
                )
            )
        ).all()
    )
    if not subscriptions:
        return []
    users = {s.owner_user_id for s in subscriptions if s.owner_user_id}
    clients = {s.owner_client_pk for s in subscriptions if s.owner_client_pk}
    active_users = set((await session.scalars(select(User.id).where(User.id.in_(users), User.active))).all())
    active_clients = set(
        (await session.scalars(select(ApiClient.id).where(ApiClient.id.in_(clients), ApiClient.active))).all()
    )
    grants = (
        await session.execute(
            select(Grant.user_id, Grant.client_pk, Grant.region).where(
                Grant.revoked_at.is_(None),
                Grant.right.in_(READ_RIGHTS),
                or_(Grant.user_id.in_(users), Grant.client_pk.in_(clients)),
            )
        )
    ).all()
    regions: dict[Any, list[str]] = defaultdict(list)
    for user_id, client_pk, region in grants:
        regions[user_id or client_pk].append(region)
    out = []
    for s in subscriptions:
        owner = s.owner_user_id or s.owner_client_pk
        if owner not in active_users | active_clients:
            continue
        if any(contains(region, s.region_code) for region in regions[owner]):
            out.append(s)
    return out


def payload_of(source: str, event: dict[str, Any]) -> dict[str, Any]:
    """The body every try of the delivery sends (Standard Webhooks: type, timestamp, data)."""
    return {
        "type": event["type"],
        "timestamp": event["occurred_at"],
        "source": source,
        "event_id": event["id"],
        "subject": event["subject"],
        "region": event.get("region"),
        "data": event["data"],
    }


def delivery_recorder(source: str) -> Handler:
    """The feed handler: one delivery row per matching subscription (WH1), none twice."""

    async def record(session: AsyncSession, event: dict[str, Any]) -> None:
        region = event.get("region")
        rows = [
            {
                "subscription_id": s.id,
                "source": source,
                "event_id": event["id"],
                "webhook_id": webhook_id(source, event["id"]),
                "event_type": event["type"],
                "payload": payload_of(source, event),
            }
            for s in await _subscribers(session, event["type"])
            if matches(event["type"], region, s.event_types, s.region_code)
        ]
        if rows:
            await session.execute(
                insert(WebhookDelivery).values(rows).on_conflict_do_nothing(constraint="webhook_deliveries_once")
            )

    return record


def webhook_feeds(app: FastAPI) -> list[FeedConsumer]:
    """One consumer per service feed; every event goes to :func:`delivery_recorder`."""
    state = FeedState(app)
    return [
        FeedConsumer(
            source=f"webhooks:{service}",
            base_url=url,
            handlers={},
            default_handler=delivery_recorder(service),
            cursors=feed_cursors,
            state=state,
        )
        for service, url in app.state.upstreams.items()
    ]
