"""Webhook secrets at rest (WH3): sealed under the gateway's keys, so the database holds no secret that signs;
deliveries still carry the signature of the secret the subscriber was shown; keys rotate; secrets stored
before sealing are sealed at start-up (services/gateway/webhook_secrets.py)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from conftest import InProcessService, ServiceFactory
from services.gateway.models import WebhookSubscription
from services.gateway.settings import Settings
from services.gateway.tests.conftest import make_account
from services.gateway.tests.test_webhooks_api import COUNTY, HOOKS, deliver, event, feed
from services.gateway.tests.webhook_receiver import running_receiver
from services.gateway.webhook_secrets import DEVELOPMENT_WEBHOOK_KEY, SEALED, InvalidToken, SecretBox
from services.gateway.webhooks import reseal_secrets

SECRET = "whsec_" + "A" * 43


def test_wh3_a_sealed_secret_opens_to_itself_and_does_not_show_it() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    sealed = box.seal(SECRET)
    assert sealed.startswith(SEALED)
    assert SECRET not in sealed
    assert "A" * 20 not in sealed
    assert box.seal(SECRET) != sealed  # a fresh IV each time: equal secrets do not look equal at rest
    assert box.open(sealed) == SECRET
    assert len(sealed) <= 300  # fits the column


def test_wh3_keys_rotate_the_first_seals_every_one_opens() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_old = SecretBox(old).seal(SECRET)
    both = SecretBox(f"{new}, {old}")
    assert both.open(sealed_old) == SECRET
    resealed = both.resealed(sealed_old)
    assert resealed is not None
    assert SecretBox(new).open(resealed) == SECRET  # the old key can now be dropped
    assert both.resealed(resealed) is None  # already under the first key: nothing to do
    with pytest.raises(InvalidToken):
        SecretBox(new).open(sealed_old)  # dropped too early: it does not open


def test_wh3_a_secret_stored_before_sealing_opens_as_it_is_and_is_sealed_when_resealed() -> None:
    box = SecretBox(Fernet.generate_key().decode())
    assert box.open(SECRET) == SECRET
    sealed = box.resealed(SECRET)
    assert sealed is not None
    assert sealed.startswith(SEALED)
    assert box.open(sealed) == SECRET


def test_a_malformed_key_stops_the_start_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="SHEGONG_GATEWAY_WEBHOOK_SECRET_KEYS"):
        Settings.model_validate({"webhook_secret_keys": "not-a-key"})


def test_production_refuses_the_development_key() -> None:
    production: dict[str, Any] = {"environment": "production", "signing_keys_dir": "/keys"}
    with pytest.raises(ValidationError, match="SHEGONG_GATEWAY_WEBHOOK_SECRET_KEYS must be set in production"):
        Settings.model_validate(production)
    keys = f"{Fernet.generate_key().decode()},{DEVELOPMENT_WEBHOOK_KEY}"
    with pytest.raises(ValidationError, match="SHEGONG_GATEWAY_WEBHOOK_SECRET_KEYS must be set in production"):
        Settings.model_validate(production | {"webhook_secret_keys": keys})
    real = Settings.model_validate(production | {"webhook_secret_keys": Fernet.generate_key().decode()})
    assert real.environment == "production"


async def stored(gateway: InProcessService, subscription_id: str) -> tuple[str, str | None]:
    async with gateway.app.state.sessionmaker() as session:
        row = await session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == subscription_id))
        assert row is not None
        return row.secret, row.previous_secret


async def test_wh3_the_database_holds_sealed_secrets_and_deliveries_are_signed_with_the_one_shown(
    service_app: ServiceFactory,
) -> None:
    gateway = await service_app("gateway", webhook_retry_seconds=[0.0])
    owner = await make_account(gateway, ("county_admin", COUNTY))
    with running_receiver() as receiver:
        created = await gateway.client.post(
            f"{HOOKS}/subscriptions",
            headers=owner.headers,
            json={"url": receiver.url, "event_types": ["quota.set"], "region_code": COUNTY},
        )
        sub = created.json()
        secret, previous = await stored(gateway, sub["id"])
        assert secret.startswith(SEALED)
        assert sub["secret"] not in secret
        assert previous is None
        rotated = await gateway.client.post(f"{HOOKS}/subscriptions/{sub['id']}/secret:rotate", headers=owner.headers)
        assert rotated.status_code == 200, rotated.text
        first = secret
        secret, previous = await stored(gateway, sub["id"])
        assert secret.startswith(SEALED)
        assert previous == first  # the sealed previous secret, as it was stored
        assert rotated.json()["secret"] not in secret
        await feed(gateway, event(1))
        assert await deliver(gateway) == 1
        (item,) = receiver.by_webhook_id().values()
        # WH3: during the overlap both the new and the previous secret sign; each verifies.
        Webhook(rotated.json()["secret"]).verify(item.body, item.headers)
        Webhook(sub["secret"]).verify(item.body, item.headers)


async def test_wh3_a_secret_stored_before_sealing_is_sealed_at_start_up_and_still_signs(
    service_app: ServiceFactory,
) -> None:
    gateway = await service_app("gateway", webhook_retry_seconds=[0.0])
    owner = await make_account(gateway, ("county_admin", COUNTY))
    with running_receiver() as receiver:
        sub = (
            await gateway.client.post(
                f"{HOOKS}/subscriptions",
                headers=owner.headers,
                json={"url": receiver.url, "event_types": ["quota.set"], "region_code": COUNTY},
            )
        ).json()
        async with gateway.app.state.sessionmaker() as session:  # as a release before sealing stored it
            await session.execute(
                update(WebhookSubscription).where(WebhookSubscription.id == sub["id"]).values(secret=sub["secret"])
            )
            await session.commit()
        box = gateway.app.state.webhook_secrets
        assert await reseal_secrets(gateway.app.state.sessionmaker, box) == 1
        secret, _ = await stored(gateway, sub["id"])
        assert secret.startswith(SEALED)
        assert box.open(secret) == sub["secret"]
        assert await reseal_secrets(gateway.app.state.sessionmaker, box) == 0  # once
        await feed(gateway, event(1))
        assert await deliver(gateway) == 1
        (item,) = receiver.by_webhook_id().values()
        Webhook(sub["secret"]).verify(item.body, item.headers)
