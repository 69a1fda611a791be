"""The merged contract, fuzzed through the gateway with the four services running as real processes.

What a client of the suite sees: every operation of ``/openapi.json`` at the gateway, routed to the
services over HTTP, with a token of the widest role. No 5xx, and every answer as declared.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import APIOperation

from tests.e2e.conftest import Suite
from tests.fuzz.conftest import fuzz_config, fuzz_profile, merged_contract

Case = schemathesis.Case[APIOperation[Any, Any, Any, Any]]

merged = schemathesis.openapi.from_dict(merged_contract(), config=fuzz_config(fuzz_profile(), gateway=True))


@pytest.fixture(scope="module")
def auth(fuzz_auth: dict[str, str]) -> dict[str, str]:
    return fuzz_auth


def test_the_gateway_serves_the_merged_committed_contracts(fuzz_suite: Suite) -> None:
    """What is fuzzed is what is served: the live merged document equals the committed contracts merged."""
    live = httpx.get(f"{fuzz_suite.gateway}/openapi.json").json()
    assert live == merged_contract()


def test_the_fuzzers_tokens_are_accepted(
    fuzz_suite: Suite, auth: dict[str, str], disposable_auth: dict[str, str]
) -> None:
    """The run fuzzes the services, not the gateway's refusals: both accounts' tokens pass the gateway (a token
    refused as revoked made every case a 401 or, unverified, a 429, and the run still passed)."""
    for headers in (auth, disposable_auth):
        me = httpx.get(f"{fuzz_suite.gateway}/api/v1/auth/me", headers=headers)
        assert me.status_code == 200, me.text
        assert "province_admin" in {g["right"] for g in me.json()["grants"]}


# Operations that end the caller's own sessions: fuzzed with another account's token (see disposable_auth).
ENDS_OWN_SESSIONS = {"/api/v1/auth/revoke-all"}


@merged.parametrize()
def test_through_the_gateway(
    case: Case, fuzz_suite: Suite, auth: dict[str, str], disposable_auth: dict[str, str]
) -> None:
    headers = disposable_auth if case.path in ENDS_OWN_SESSIONS else auth
    case.call_and_validate(base_url=fuzz_suite.gateway, headers=headers)
