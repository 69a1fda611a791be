"""Webhook subscriptions (Standard Webhooks) for provincial platforms and other departments: subscribe to
events of a region instead of polling (docs/webhooks.md, WH1–WH5). The use cases are in
``services.gateway.webhooks``; deliveries are made by ``webhook_feeds`` and ``webhook_sender``."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from services.gateway import webhooks
from services.gateway.schemas import (
    DeliveryOut,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionWithSecret,
)
from services.gateway.state import gateway_state
from shared.db import SessionDep
from shared.dependencies import Reader
from shared.list_answers import paged_route
from shared.pagination import Page, PageAt
from shared.problems import problem_responses

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
SubscriptionId = Annotated[uuid.UUID, Path(description="订阅编号 subscription id")]
DeliveryId = Annotated[int, Path(description="投递编号 delivery id")]


def _policy(request: Request) -> webhooks.WebhookPolicy:
    state = gateway_state(request)
    return webhooks.WebhookPolicy(
        allow_loopback=bool(state.settings.webhook_allow_loopback),
        secret_overlap=timedelta(seconds=state.settings.webhook_secret_overlap_seconds),
        secrets=state.webhook_secrets,
    )


def _with_secret(row: object, secret: str) -> SubscriptionWithSecret:
    out = webhooks.subscription_out(row)  # type: ignore[arg-type]
    return SubscriptionWithSecret(**out.model_dump(), secret=secret)


@router.post(
    "/subscriptions",
    status_code=201,
    summary="订阅事件 subscribe to a region's events (WH1, WH2, WH5); the secret is shown this once",
    responses=problem_responses(403, 404, 422),
)
async def create_subscription(
    body: SubscriptionCreate, request: Request, response: Response, session: SessionDep, principal: Reader
) -> SubscriptionWithSecret:
    row, secret = await webhooks.create_subscription(session, principal, body, _policy(request))
    response.headers["Location"] = f"/api/v1/webhooks/subscriptions/{row.id}"
    return _with_secret(row, secret)


@paged_route(
    router,
    "/subscriptions",
    SubscriptionOut,
    "webhook-subscriptions",
    summary="我的订阅 the caller's own subscriptions",
    problems=(),
)
async def list_subscriptions(at: PageAt, principal: Reader) -> Page[SubscriptionOut]:
    return await webhooks.list_subscriptions(at, principal)


@router.get(
    "/subscriptions/{subscription_id}",
    summary="查看订阅 one of the caller's subscriptions",
    responses=problem_responses(404),
)
async def get_subscription(subscription_id: SubscriptionId, session: SessionDep, principal: Reader) -> SubscriptionOut:
    return webhooks.subscription_out(await webhooks.own_subscription(session, principal, subscription_id))


@router.patch(
    "/subscriptions/{subscription_id}",
    summary="修改订阅 change the URL, types, region (WH1, WH2, WH5) or pause it",
    responses=problem_responses(404, 422),
)
async def update_subscription(
    subscription_id: SubscriptionId, body: SubscriptionPatch, request: Request, session: SessionDep, principal: Reader
) -> SubscriptionOut:
    row = await webhooks.update_subscription(session, principal, subscription_id, body, _policy(request))
    return webhooks.subscription_out(row)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    summary="取消订阅 delete a subscription and its delivery log",
    responses=problem_responses(404),
)
async def delete_subscription(subscription_id: SubscriptionId, session: SessionDep, principal: Reader) -> None:
    await webhooks.delete_subscription(session, principal, subscription_id)


@router.post(
    "/subscriptions/{subscription_id}/secret:rotate",
    summary="轮换密钥 a new secret signs from now on; the previous one also signs during the overlap (WH3)",
    responses=problem_responses(404),
)
async def rotate_secret(
    subscription_id: SubscriptionId, request: Request, session: SessionDep, principal: Reader
) -> SubscriptionWithSecret:
    row, secret = await webhooks.rotate_secret(session, principal, subscription_id, _policy(request))
    return _with_secret(row, secret)


@paged_route(
    router,
    "/subscriptions/{subscription_id}/deliveries",
    DeliveryOut,
    "webhook-deliveries",
    summary="投递记录 the delivery log, newest first: attempts, status codes, next try, parked (WH4)",
    problems=(404,),
)
async def list_deliveries(at: PageAt, subscription_id: SubscriptionId, principal: Reader) -> Page[DeliveryOut]:
    return await webhooks.list_deliveries(at, principal, subscription_id)


@router.post(
    "/deliveries/{delivery_id}:redeliver",
    summary="重新投递 send a delivery again from the start of the retry schedule, same webhook-id (WH4)",
    responses=problem_responses(404),
)
async def redeliver(delivery_id: DeliveryId, session: SessionDep, principal: Reader) -> DeliveryOut:
    return webhooks.delivery_out(await webhooks.redeliver(session, principal, delivery_id))
