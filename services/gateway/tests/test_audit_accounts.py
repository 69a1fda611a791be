"""The audit log names the accounts behind ``user:<uuid>`` (the gateway owns the users table): username and
name of the actor and of the subject, for the log's readers; other actors (no account) are left as they are."""

from __future__ import annotations

import uuid

from conftest import InProcessService
from services.gateway.account_names import account_names
from services.gateway.tests.conftest import PASSWORD, AccountFactory

LUCHENG, COMMUNITY_A = "330302", "330302001001"


async def test_audit_events_name_the_actor_and_subject_accounts(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("county_admin", LUCHENG), username="lucheng-admin")
    created = await gateway.client.post(
        "/api/v1/identity/users",
        headers=admin.headers,
        json={
            "username": "zhang-san",
            "name": "张三",
            "phone": "13912345678",
            "password": PASSWORD,
            "grants": [{"right": "worker", "region": COMMUNITY_A}],
        },
    )
    assert created.status_code == 201, created.text
    auditor = await account(("auditor", LUCHENG))
    answer = await gateway.client.get(
        "/api/v1/audit/events",
        headers=auditor.headers,
        params={"action": "user_created", "actor": f"user:{admin.id}"},
    )
    (event,) = answer.json()["items"]
    assert event["actor_account"] == {"username": "lucheng-admin", "name": "测试"}
    assert event["subject"] == f"user:{created.json()['id']}"
    assert event["subject_account"] == {"username": "zhang-san", "name": "张三"}


async def test_only_user_subjects_of_known_accounts_are_named(
    gateway: InProcessService, account: AccountFactory
) -> None:
    known = await account(("county_admin", LUCHENG), username="known-one")
    async with gateway.app.state.sessionmaker() as session:
        names = await account_names(
            session,
            [f"user:{known.id}", f"user:{uuid.uuid4()}", "user:not-a-uuid", "client:platform", None, ""],
        )
    assert {k: v.username for k, v in names.items()} == {f"user:{known.id}": "known-one"}
