"""Every operation of each service's committed contract, fuzzed against the service's own app in-process.

The app runs with its real lifespan (in schemathesis' ASGI event loop) on the fuzzer's own database, with
a token of the widest role (``province_admin`` of 330000 with the personal-data right). Positive and
negative data; no answer may be a 5xx, and every answer must be one the contract declares, in the
declared media type, with a body of the declared schema.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import APIOperation
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema

from conftest import FAST_HASHING
from services.gateway.keys import SigningKeys
from shared.auth import TokenVerifier
from shared.migrations import settings_for
from tests.fuzz.conftest import contract_schema, fuzz_profile


@pytest.fixture(scope="module")
def apps(fuzz_database_url: str, signing_keys_dir: Path) -> Iterator[dict[str, FastAPI]]:
    """Each service's app on the fuzzer's database; their lifespans start with their first request."""
    made: dict[str, FastAPI] = {}
    keys = SigningKeys(signing_keys_dir)

    async def jwks() -> dict[str, Any]:
        return keys.jwks()

    for service in ("gateway", "roster", "compensation", "evaluation"):
        overrides: dict[str, object] = {"database_url": fuzz_database_url, "feeds_enabled": False}
        if service == "gateway":
            # Limits high enough for the fuzzer; the 429 itself is declared and tested elsewhere.
            overrides |= {"signing_keys_dir": signing_keys_dir, "rate_limit_user": 10**6, **FAST_HASHING}
        if service == "roster":
            overrides["lifecycle_enabled"] = False
        config = settings_for(service).model_copy(update=overrides)
        app: FastAPI = importlib.import_module(f"services.{service}.app").create_app(config)
        if service != "gateway":
            app.state.token_verifier = TokenVerifier(jwks)  # the gateway's keys, without a gateway
        made[service] = app
    yield made
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def auth(fuzz_auth: dict[str, str]) -> dict[str, str]:
    return fuzz_auth


Case = schemathesis.Case[APIOperation[Any, Any, Any, Any]]

roster = contract_schema("roster")
compensation = contract_schema("compensation")
evaluation = contract_schema("evaluation")
# The gateway's own operations; its health reports services that do not run in-process (the suite's test has them).
gateway = contract_schema("gateway").exclude(path=["/healthz", "/readyz"])


@roster.parametrize()
def test_roster(case: Case, apps: dict[str, FastAPI], auth: dict[str, str]) -> None:
    case.call_and_validate(headers=auth, app=apps["roster"])


@compensation.parametrize()
def test_compensation(case: Case, apps: dict[str, FastAPI], auth: dict[str, str]) -> None:
    case.call_and_validate(headers=auth, app=apps["compensation"])


@evaluation.parametrize()
def test_evaluation(case: Case, apps: dict[str, FastAPI], auth: dict[str, str]) -> None:
    case.call_and_validate(headers=auth, app=apps["evaluation"])


@gateway.parametrize()
def test_gateway_own_operations(case: Case, apps: dict[str, FastAPI], auth: dict[str, str]) -> None:
    case.call_and_validate(headers=auth, app=apps["gateway"])


def _run_workflow(schema: BaseSchema, app: FastAPI, auth: dict[str, str]) -> None:
    """Sequences of calls along the links schemathesis infers (a created id fed to the reads and updates)."""
    workflow = schema.as_state_machine()

    class Workflow(workflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"app": app, "headers": auth}

    profile = fuzz_profile()
    Workflow.run(
        settings=hypothesis.settings(
            max_examples=profile.stateful_steps,
            stateful_step_count=profile.stateful_steps,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


@pytest.mark.parametrize("service", ["roster", "compensation", "evaluation"])
def test_stateful_workflows(service: str, apps: dict[str, FastAPI], auth: dict[str, str]) -> None:
    _run_workflow(
        {"roster": roster, "compensation": compensation, "evaluation": evaluation}[service], apps[service], auth
    )
