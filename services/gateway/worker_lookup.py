"""Where a roster worker works, asked of the roster with the gateway's own credentials (rule AC1).

An account bound to a worker (``User.worker_id``) lets its holder read that worker's records as their own,
so the binding is checked when it is written: the gateway asks the roster for the worker's community and
the admin API compares it with the caller's scope and the account's grants. The gateway is the token
issuer, so its credentials are a short-lived token it signs for itself (``service`` for the deployment's
province), not a client secret of its own.
"""

from __future__ import annotations

import uuid

import httpx
from fastapi import Request

from services.gateway.state import gateway_state
from services.gateway.tokens import issue_access_token
from shared.auth import Grant, Principal, Role
from shared.http_client import request_with_retries
from shared.i18n import Message
from shared.problems import ServiceUnavailable

GATEWAY_SUBJECT = "client:gateway"
LOOKUP_TOKEN_TTL_SECONDS = 60


def gateway_principal(province_code: str) -> Principal:
    """The gateway itself, reading the roster province-wide (never sent to anyone but a service)."""
    return Principal(subject=GATEWAY_SUBJECT, name="gateway", grants=(Grant(Role.service, province_code),))


async def worker_community(request: Request, worker_id: uuid.UUID) -> str | None:
    """The community code of the roster's worker ``worker_id``; None when the roster has no such worker.

    503 when the roster cannot answer: a binding that cannot be checked is not made (fail closed).
    """
    state = gateway_state(request)
    token = issue_access_token(
        state.signing_keys, gateway_principal(state.settings.province_code), LOOKUP_TOKEN_TTL_SECONDS
    )
    unavailable = ServiceUnavailable(
        Message("暂时无法向花名册核实该社工", "The roster cannot confirm the worker now"), rule="AC1"
    )
    try:
        response = await request_with_retries(
            state.http,
            "GET",
            f"{state.balancer.first(state.upstreams['roster'])}/v1/workers/{worker_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as exc:
        raise unavailable from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise unavailable
    community = response.json().get("community_code")
    return str(community) if community else None
