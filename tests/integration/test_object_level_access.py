"""OWASP API1 (BOLA) and API5 (BFLA), object by object: every route of the four services that takes an
id or a region (path, query or body) is called by a county admin of 鹿城区 330302 with an object of
龙湾区 330303. It answers 404 (the object does not exist for the caller; a list filter may answer an
empty list instead) and changes nothing in any service's schema.

The cases are checked against the apps' route tables: a new route that takes an id or a region and has
no case here fails ``test_every_route_taking_an_id_or_a_region_has_a_case``. ``docs/security.md``.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.compensation.projections import apply_evaluation_page
from services.compensation.projections import apply_post as compensation_post
from services.compensation.projections import apply_worker as compensation_worker
from services.compensation.tests.conftest import graded_events
from services.compensation.tests.test_bonus_api import COEFFICIENTS
from services.evaluation.projections import apply_worker as evaluation_worker
from services.evaluation.tests.conftest import NANHU_SCHEME
from services.gateway.models import Grant, RefreshToken, User, WebhookDelivery, WebhookSubscription
from services.gateway.tests.conftest import make_account
from services.roster.tests.conftest import Roster, id_number
from shared.migrations import settings_for

OURS, OTHER = "330302", "330303"
OTHER_TOWNSHIP, OTHER_COMMUNITY = "330303001000", "330303001001"
SERVICES = ("gateway", "roster", "compensation", "evaluation")
# Names of query parameters and body fields that refer to another object or to a region.
REFERENCES = re.compile(r"(^|_)(id|ids|code|region|county|township|community|grants|entries|visits|candidates)$")
NOT_OBJECT_REFERENCES = {("gateway", "POST", "/api/v1/auth/token"), ("gateway", "POST", "/api/v1/auth/revoke")}


@dataclass
class Case:
    """One call with an object of the other county; ``{name}`` in path, params and body come from the data."""

    method: str
    path: str  # unused: the key names the route
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    list_filter: bool = False  # a list filtered to the other county may answer an empty list
    files: dict[str, Any] | None = None  # a multipart upload (then no JSON body)
    expect: int = 404  # 403 where the caller's role is refused before any object is looked at (API5)
    per_item: bool = False  # a batch answering per item: 200, every item refused as not found
    names: dict[str, str] = field(default_factory=dict)  # this route's own values of some names


TODAY, YEAR = "2026-03-02", 2026
CASES: dict[tuple[str, str, str], Case] = {
    # gateway: accounts of the other county
    ("gateway", "GET", "/api/v1/identity/users"): Case("GET", "", {"region": OTHER}, list_filter=True),
    ("gateway", "POST", "/api/v1/identity/users"): Case(
        "POST",
        "",
        body={
            "username": "bola-user",
            "name": "越权",
            "password": "correct horse battery staple",
            "worker_id": "{worker_id}",
            "grants": [{"right": "worker", "region": "330302001001"}],
        },
    ),
    ("gateway", "GET", "/api/v1/identity/users/{user_id}"): Case("GET", ""),
    ("gateway", "PATCH", "/api/v1/identity/users/{user_id}"): Case("PATCH", "", body={"name": "改名"}),
    ("gateway", "POST", "/api/v1/identity/users/{user_id}/grants"): Case(
        "POST", "", body={"right": "worker", "region": "330302001001"}
    ),
    ("gateway", "DELETE", "/api/v1/identity/grants/{grant_id}"): Case("DELETE", ""),
    ("gateway", "POST", "/api/v1/identity/clients"): Case(
        "POST",
        "",
        body={
            "client_id": "bola-client",
            "name": "越权",
            "department": "某部门",
            "grants": [{"right": "auditor", "region": OTHER}],
        },
        expect=403,  # AC2: a grant outside the admin's region
    ),
    ("gateway", "POST", "/api/v1/identity/clients/{client_id}/secret"): Case("POST", ""),
    ("gateway", "GET", "/api/v1/identity/sessions"): Case("GET", "", {"user_id": "{user_id}"}, list_filter=True),
    ("gateway", "DELETE", "/api/v1/identity/sessions/{session_id}"): Case("DELETE", ""),
    # roster
    ("roster", "GET", "/v1/quotas/{county_code}/{year}"): Case("GET", ""),
    # imports (issue #13): a job of the other county, an upload for it, its export
    ("roster", "GET", "/v1/imports/templates/{import_kind}.xlsx"): Case("GET", "", expect=200),  # not an object
    ("roster", "POST", "/v1/imports"): Case(
        "POST", "", {"kind": "workforce", "region": OTHER}, files={"file": ("w.csv", b"\xe8\xba\xab\n")}
    ),
    ("roster", "GET", "/v1/imports/{job_id}"): Case("GET", ""),
    ("roster", "GET", "/v1/imports/{job_id}/errors"): Case("GET", ""),
    ("roster", "GET", "/v1/imports/{job_id}/errors.xlsx"): Case("GET", ""),
    # imports of the evaluation and the compensation (issue #13, shared.import_routes): the same shape
    ("evaluation", "GET", "/v1/imports/templates/{import_kind}.xlsx"): Case(
        "GET", "", expect=200, names={"import_kind": "training"}
    ),  # not an object
    ("evaluation", "POST", "/v1/imports"): Case(
        "POST", "", {"kind": "training", "region": OTHER}, files={"file": ("t.csv", b"\xe8\xba\xab\n")}
    ),
    ("evaluation", "GET", "/v1/imports/{job_id}"): Case("GET", ""),
    ("evaluation", "GET", "/v1/imports/{job_id}/errors"): Case("GET", ""),
    ("evaluation", "GET", "/v1/imports/{job_id}/errors.xlsx"): Case("GET", ""),
    ("compensation", "GET", "/v1/imports/templates/{import_kind}.xlsx"): Case(
        "GET", "", expect=200, names={"import_kind": "statistics"}
    ),  # not an object
    ("compensation", "POST", "/v1/imports"): Case(
        "POST", "", {"kind": "statistics", "region": OTHER}, files={"file": ("t.csv", b"\xe8\xba\xab\n")}
    ),
    ("compensation", "GET", "/v1/imports/{job_id}"): Case("GET", ""),
    ("compensation", "GET", "/v1/imports/{job_id}/errors"): Case("GET", ""),
    ("compensation", "GET", "/v1/imports/{job_id}/errors.xlsx"): Case("GET", ""),
    ("roster", "GET", "/v1/workforce.xlsx"): Case("GET", "", {"region": OTHER}),
    ("roster", "GET", "/v1/workforce.csv"): Case("GET", "", {"region": OTHER}),
    ("roster", "PUT", "/v1/quotas/{county_code}/{year}"): Case("PUT", "", body={"headcount": 99}),
    ("roster", "POST", "/v1/recruitment-rounds"): Case(
        "POST",
        "",
        body={
            "county_code": OTHER,
            "channel": "recruitment",
            "announced_on": TODAY,
            "hires": 1,
            "title": "越权招聘",
        },
    ),
    ("roster", "POST", "/v1/recruitment-rounds/{round_id}/reserve"): Case(
        "POST", "", body={"candidates": [{"name": "候选", "id_number": id_number(70, region=OTHER), "score": "80"}]}
    ),
    ("roster", "POST", "/v1/regions"): Case(
        "POST",
        "",
        body={"code": "330303001009", "name": "越权社区", "parent_code": OTHER_TOWNSHIP, "kind": "urban"},
    ),
    ("roster", "GET", "/v1/regions/{code}"): Case("GET", ""),
    ("roster", "PATCH", "/v1/regions/{code}"): Case("PATCH", "", body={"name": "改名"}),
    ("roster", "GET", "/v1/regions/{code}/ancestors"): Case("GET", ""),
    ("roster", "GET", "/v1/regions/{code}/children"): Case("GET", ""),
    ("roster", "GET", "/v1/regions/{code}/descendants"): Case("GET", ""),
    ("roster", "GET", "/v1/reports/career-eligibility"): Case("GET", "", {"region": OTHER}),
    ("roster", "GET", "/v1/reports/renewals"): Case("GET", "", {"region": OTHER, "year": YEAR}),
    ("roster", "GET", "/v1/reports/staffing"): Case("GET", "", {"region": OTHER}),
    ("roster", "GET", "/v1/reserve-pool"): Case("GET", "", {"county": OTHER}, list_filter=True),
    ("roster", "GET", "/v1/recruitment-rounds"): Case("GET", "", {"county": OTHER}),
    ("roster", "GET", "/v1/staffing-policies/{region_code}/{year}"): Case("GET", ""),
    ("roster", "PUT", "/v1/staffing-policies/{region_code}/{year}"): Case(
        "PUT", "", body={"parameters": {}, "source": "越权"}
    ),
    ("roster", "GET", "/v1/workers"): Case("GET", "", {"region": OTHER}, list_filter=True),
    ("roster", "POST", "/v1/workers"): Case(
        "POST",
        "",
        body={
            "id_number": id_number(71, region=OTHER),
            "name": "越权",
            "community_code": OTHER_COMMUNITY,
            "hire_date": TODAY,
        },
    ),
    ("roster", "POST", "/v1/workers/lookup"): Case("POST", "", body={"id_number": id_number(60, region=OTHER)}),
    ("roster", "GET", "/v1/workers/{worker_id}"): Case("GET", ""),
    ("roster", "PATCH", "/v1/workers/{worker_id}"): Case("PATCH", "", body={"generalist": True}),
    ("roster", "GET", "/v1/workers/{worker_id}/contracts"): Case("GET", ""),
    ("roster", "POST", "/v1/workers/{worker_id}/contracts"): Case("POST", "", body={"start_date": TODAY}),
    ("roster", "GET", "/v1/workers/{worker_id}/personal-data"): Case("GET", ""),
    ("roster", "POST", "/v1/workers:personal-data"): Case("POST", "", body={"worker_ids": ["{worker_id}"]}),
    # the feeds: another county's events are refused (the region is outside the caller's grants)
    ("roster", "GET", "/v1/events"): Case("GET", "", {"region": OTHER}, expect=403),
    ("compensation", "GET", "/v1/events"): Case("GET", "", {"region": OTHER}, expect=403),
    ("evaluation", "GET", "/v1/events"): Case("GET", "", {"region": OTHER}, expect=403),
    ("roster", "GET", "/v1/workers/{worker_id}/posts"): Case("GET", ""),
    ("roster", "POST", "/v1/workers/{worker_id}/posts"): Case(
        "POST", "", body={"post": "staff", "grade": 3, "start_date": TODAY}
    ),
    ("roster", "POST", "/v1/workers/{worker_id}/recontracts"): Case(
        "POST", "", body={"start_date": TODAY, "prior_arrangement": "越权"}
    ),
    ("roster", "POST", "/v1/workers/{worker_id}/secondments"): Case(
        "POST", "", body={"kind": "loan", "host": "某单位", "start_date": TODAY, "end_date": "2026-06-30"}
    ),
    ("roster", "POST", "/v1/workers/{worker_id}/transfers"): Case(
        "POST", "", body={"to_community": "330302001001", "effective_date": TODAY}
    ),
    ("roster", "GET", "/v1/personal-data-reads"): Case(
        "GET",
        "",
        {"worker_id": "{worker_id}"},
        expect=403,  # auditors and the province only
    ),
    # compensation
    ("compensation", "GET", "/v1/bonus-allocations"): Case(
        "GET", "", {"township_code": OTHER_TOWNSHIP, "year": YEAR}, list_filter=True
    ),
    ("compensation", "POST", "/v1/bonus-allocations"): Case(
        "POST", "", body={"township_code": OTHER_TOWNSHIP, "year": YEAR, "pool": "1000.00"}
    ),
    ("compensation", "GET", "/v1/pay-scales/{county_code}/{year}"): Case("GET", ""),
    ("compensation", "PUT", "/v1/pay-scales/{county_code}/{year}"): Case(
        "PUT", "", body={"cells": [{"post": "staff", "grade": 1, "annual_amount": "80000"}]}
    ),
    ("compensation", "POST", "/v1/pay-scales/{county_code}/{year}/calibrate"): Case(
        "POST", "", body={"post_factors": {"staff": "1", "deputy": "1.1", "chief": "1.2"}, "step": "0.03"}
    ),
    ("compensation", "GET", "/v1/payroll-runs"): Case("GET", "", {"region_code": OTHER}, list_filter=True),
    ("compensation", "POST", "/v1/payroll-runs"): Case(
        "POST", "", body={"region_code": OTHER_TOWNSHIP, "month": "2026-02"}
    ),
    ("compensation", "GET", "/v1/payroll-runs/{run_id}"): Case("GET", ""),
    ("compensation", "POST", "/v1/payroll-runs/{run_id}/approve"): Case("POST", ""),
    ("compensation", "POST", "/v1/payroll-runs/{run_id}/calculate"): Case("POST", ""),
    ("compensation", "POST", "/v1/payroll-runs/{run_id}/cancel"): Case("POST", ""),
    ("compensation", "POST", "/v1/payroll-runs/{run_id}/reverse"): Case("POST", "", body={"reason": "冲销"}),
    ("compensation", "POST", "/v1/payroll-runs/{run_id}/pay"): Case("POST", ""),
    ("compensation", "GET", "/v1/payroll-runs/{run_id}/payslips"): Case("GET", ""),
    ("compensation", "GET", "/v1/policy-profiles/{region_code}/{year}"): Case("GET", ""),
    ("compensation", "PATCH", "/v1/policy-profiles/{region_code}/{year}"): Case("PATCH", "", body={}),
    ("compensation", "GET", "/v1/recuperation-claims"): Case(
        "GET", "", {"year": YEAR, "worker_id": "{worker_id}"}, list_filter=True
    ),
    ("compensation", "POST", "/v1/recuperation-claims"): Case(
        "POST", "", body={"worker_id": "{worker_id}", "start_date": TODAY, "days": 1, "amount": "100.00"}
    ),
    ("compensation", "PUT", "/v1/reference-statistics/{region_code}/{year}/{kind}"): Case(
        "PUT", "", body={"value": "100000", "source": "越权"}
    ),
    ("compensation", "GET", "/v1/reports/budget"): Case("GET", "", {"county": OTHER, "year": YEAR}),
    ("compensation", "GET", "/v1/reports/contributions"): Case("GET", "", {"region_code": OTHER, "month": "2026-02"}),
    ("compensation", "GET", "/v1/reports/pay-compliance"): Case("GET", "", {"region": OTHER, "year": YEAR}),
    ("compensation", "GET", "/v1/reports/recuperation-due"): Case("GET", "", {"region": OTHER, "on": TODAY}),
    ("compensation", "POST", "/v1/step-ups"): Case("POST", "", body={"region_code": OTHER, "year": YEAR}),
    ("compensation", "GET", "/v1/step-up-orders"): Case(
        "GET", "", {"region_code": OTHER, "year": YEAR}, list_filter=True
    ),
    ("compensation", "GET", "/v1/targets/{region_code}/{year}"): Case("GET", ""),
    ("compensation", "GET", "/v1/workers/{worker_id}/payslips"): Case("GET", ""),
    # evaluation
    ("evaluation", "POST", "/v1/cycles"): Case("POST", "", body={"township_code": OTHER_TOWNSHIP, "year": YEAR - 1}),
    ("evaluation", "GET", "/v1/cycles"): Case("GET", "", {"region": OTHER}, list_filter=True),
    ("evaluation", "GET", "/v1/cycles/{cycle_id}"): Case("GET", ""),
    ("evaluation", "POST", "/v1/cycles/{cycle_id}/close"): Case("POST", ""),
    ("evaluation", "POST", "/v1/cycles/{cycle_id}/daily-scores"): Case(
        "POST", "", body={"entries": [{"worker_id": "{worker_id}", "score": "80"}]}
    ),
    ("evaluation", "GET", "/v1/cycles/{cycle_id}/results"): Case("GET", ""),
    ("evaluation", "POST", "/v1/cycles/{cycle_id}/results/{worker_id}/appeal"): Case(
        "POST", "", body={"grade": "excellent", "reason": "越权"}
    ),
    ("evaluation", "POST", "/v1/cycles/{cycle_id}/scores"): Case(
        "POST", "", body={"entries": [{"worker_id": "{worker_id}", "rater_group": "peers", "score": "80"}]}
    ),
    ("evaluation", "POST", "/v1/must-visit-households"): Case(
        "POST",
        "",
        body={
            "community_code": OTHER_COMMUNITY,
            "building": "1",
            "unit": "1",
            "household": "101",
            "category": "newly_moved_in",
            "since": TODAY,
        },
    ),
    ("evaluation", "GET", "/v1/reports/compliance"): Case("GET", "", {"region": OTHER, "month": "2026-02"}),
    ("evaluation", "GET", "/v1/reports/training"): Case("GET", "", {"region": OTHER, "year": YEAR}),
    ("evaluation", "GET", "/v1/reports/visits"): Case("GET", "", {"region": OTHER, "month": "2026-02"}),
    ("evaluation", "GET", "/v1/schemes/{county_code}/{year}"): Case("GET", ""),
    ("evaluation", "PUT", "/v1/schemes/{county_code}/{year}"): Case("PUT", "", body=NANHU_SCHEME),
    ("evaluation", "POST", "/v1/training-records"): Case(
        "POST",
        "",
        body={
            "course": "越权",
            "organiser": "某单位",
            "hours": "2",
            "start_date": TODAY,
            "end_date": TODAY,
            "worker_ids": ["{worker_id}"],
        },
    ),
    ("evaluation", "POST", "/v1/work-cases"): Case(
        "POST", "", body={"worker_id": "{worker_id}", "year": YEAR, "title": "越权", "content": "越权"}
    ),
    ("evaluation", "POST", "/v1/work-cases/{case_id}/review"): Case("POST", "", body={"decision": "approved"}),
    ("evaluation", "GET", "/v1/workers/{worker_id}/assessments"): Case("GET", ""),
    ("evaluation", "POST", "/v1/visits:batch"): Case(
        "POST",
        "",
        per_item=True,
        body={
            "visits": [
                {
                    "id": "00000000-0000-4000-8000-0000000000aa",
                    "community_code": OTHER_COMMUNITY,
                    "building": "1",
                    "unit": "1",
                    "household": "101",
                    "started_at": "2026-03-02T09:00:00+08:00",
                    "ended_at": "2026-03-02T09:30:00+08:00",
                    "worker_id": "{worker_id}",
                }
            ]
        },
    ),
    ("evaluation", "DELETE", "/v1/must-visit-households/{household_id}"): Case("DELETE", ""),
    ("evaluation", "GET", "/v1/visits"): Case("GET", "", {"worker_id": "{worker_id}"}),
    ("evaluation", "GET", "/v1/communities/{community_code}/households/{building}/{unit}/{household}/visits"): Case(
        "GET", ""
    ),
    # gateway: webhooks of another county's account, and a region outside the caller's
    ("gateway", "POST", "/api/v1/webhooks/subscriptions"): Case(
        "POST", "", body={"url": "https://p.example.gov.cn/h", "event_types": ["*"], "region_code": OTHER}
    ),
    ("gateway", "GET", "/api/v1/webhooks/subscriptions/{subscription_id}"): Case("GET", ""),
    ("gateway", "PATCH", "/api/v1/webhooks/subscriptions/{subscription_id}"): Case(
        "PATCH", "", body={"region_code": OURS}
    ),
    ("gateway", "DELETE", "/api/v1/webhooks/subscriptions/{subscription_id}"): Case("DELETE", ""),
    ("gateway", "POST", "/api/v1/webhooks/subscriptions/{subscription_id}/secret:rotate"): Case("POST", ""),
    ("gateway", "GET", "/api/v1/webhooks/subscriptions/{subscription_id}/deliveries"): Case("GET", ""),
    ("gateway", "POST", "/api/v1/webhooks/deliveries/{delivery_id}:redeliver"): Case("POST", ""),
    ("compensation", "GET", "/v1/recuperation-claims/{claim_id}"): Case("GET", ""),
    ("compensation", "PUT", "/v1/policy-profiles/{region_code}/{year}"): Case(
        "PUT", "", body={"parameters": {}, "sources": {}}
    ),
    ("compensation", "GET", "/v1/bonus-allocations/{allocation_id}"): Case("GET", ""),
    ("compensation", "GET", "/v1/bonus-allocations/{allocation_id}/payouts"): Case("GET", ""),
    ("compensation", "POST", "/v1/bonus-allocations/{allocation_id}/replace"): Case(
        "POST", "", body={"pool": "2000.00", "reason": "越权"}
    ),
}


def _referring_routes(service: str, app: FastAPI) -> Iterator[tuple[str, str, str]]:
    """(service, method, path) of each route with a path parameter, or a query or body field naming an object."""
    doc = app.openapi()
    schemas = doc.get("components", {}).get("schemas", {})
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            key = (service, method.upper(), path)
            if key in NOT_OBJECT_REFERENCES:
                continue
            params = operation.get("parameters", [])
            body_fields: list[str] = []
            for content in operation.get("requestBody", {}).get("content", {}).values():
                name = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                body_fields += list(schemas.get(name, {}).get("properties", {}))
            if (
                any(p["in"] == "path" for p in params)
                or any(p["in"] == "query" and REFERENCES.search(p["name"]) for p in params)
                or any(REFERENCES.search(f) for f in body_fields)
            ):
                yield key


def test_every_route_taking_an_id_or_a_region_has_a_case(signing_keys_dir: Any) -> None:
    missing = []
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.app")
        overrides: dict[str, object] = {"signing_keys_dir": signing_keys_dir} if service == "gateway" else {}
        app = module.create_app(settings_for(service).model_copy(update=overrides))
        missing += [key for key in _referring_routes(service, app) if key not in CASES]
    assert missing == [], f"routes taking an id or a region without an object-level case: {missing}"


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value


# Tables every request writes, whatever it asks for: the gateway's shared rate-limit cells (issue #15).
BOOKKEEPING = frozenset({"rate_limit_cells"})


async def _digest(service: InProcessService) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of the rows of every table of the service's schema."""
    schema = service.app.state.service_name
    out = {}
    async with service.app.state.sessionmaker() as session:
        tables = (
            await session.scalars(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :s AND table_type = 'BASE TABLE' ORDER BY table_name"
                ),
                {"s": schema},
            )
        ).all()
        for table in tables:
            if table in BOOKKEEPING:
                continue
            row = (
                await session.execute(
                    text(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                        f'FROM {schema}."{table}" t'
                    )
                )
            ).one()
            out[table] = (row[0], row[1])
    return out


@dataclass
class TwoCounties:
    services: dict[str, InProcessService]
    names: dict[str, str]
    caller: dict[str, str]  # a county admin of 鹿城区 with personal data: a real account (the gateway knows it)


@pytest.fixture
async def two_counties(service_app: ServiceFactory, mint: Mint) -> TwoCounties:
    """The four services with objects of 龙湾区 330303 (and the tree of 鹿城区 330302 beside it)."""
    services = {name: await service_app(name) for name in SERVICES}
    # Real accounts: the gateway refuses tokens of accounts it does not know (token versions).
    admin = await make_account(services["gateway"], ("province_admin", "330000"), pd=("330000",))
    province = bearer(admin.token)
    roster = Roster(services["roster"], mint)
    tree = [
        ("330000", "浙江省", None, {}),
        ("330300", "温州市", "330000", {}),
        (OURS, "鹿城区", "330300", {}),
        (OTHER, "龙湾区", "330300", {}),
        ("330302001000", "五马街道", OURS, {}),
        (OTHER_TOWNSHIP, "永中街道", OTHER, {}),
        ("330302001001", "社区A", "330302001000", {"kind": "urban", "households": 2000}),
        (OTHER_COMMUNITY, "社区O", OTHER_TOWNSHIP, {"kind": "urban", "households": 2000}),
    ]
    for code, name, parent, extra in tree:
        made = await roster.client.post(
            "/v1/regions",
            headers=roster.province_admin,
            json={"code": code, "name": name, "parent_code": parent, **extra},
        )
        assert made.status_code in (201, 409), made.text  # 409: committed by a test that does not roll back
    for county in (OURS, OTHER):
        put = await roster.client.put(f"/v1/quotas/{county}/{YEAR}", headers=province, json={"headcount": 30})
        assert put.status_code == 200, put.text
    worker = await roster.hire(60, community=OTHER_COMMUNITY, id_number=id_number(61, "19880808", region=OTHER))
    worker_id = worker["id"]
    round_ = await roster.client.post(
        "/v1/recruitment-rounds",
        headers=province,
        json={
            "county_code": OTHER,
            "channel": "recruitment",
            "announced_on": "2026-01-10",
            "hires": 2,
            "title": "龙湾",
        },
    )
    assert round_.status_code == 201, round_.text

    gateway = services["gateway"]
    await gateway.app.state.http.aclose()
    gateway.app.state.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=roster.service.app))
    gateway.app.state.upstreams = {**gateway.app.state.upstreams, "roster": "http://roster.test"}
    async with gateway.app.state.sessionmaker() as session:
        user = User(username="longwan-worker", name="龙湾社工", password_hash="x", worker_id=worker_id)
        session.add(user)
        await session.flush()
        grant = Grant(user_id=user.id, right="worker", region=OTHER_COMMUNITY, granted_by="test")
        session.add(grant)
        family = uuid.uuid4()
        session.add(
            RefreshToken(
                id=uuid.uuid4(),
                family_id=family,
                user_id=user.id,
                secret_hash="0" * 64,
                expires_at=datetime(2999, 1, 1, tzinfo=UTC),
            )
        )
        await session.flush()
        subscription = WebhookSubscription(
            owner=f"user:{user.id}",
            owner_user_id=user.id,
            url="https://longwan.example.gov.cn/hooks",
            event_types=["*"],
            region_code=OTHER_COMMUNITY,
            secret="whsec_" + "A" * 44,
        )
        session.add(subscription)
        await session.flush()
        delivery = WebhookDelivery(
            subscription_id=subscription.id,
            source="roster",
            event_id=1,
            webhook_id="evt_roster_1",
            event_type="worker.hired",
            payload={},
            status="parked",
        )
        session.add(delivery)
        await session.commit()
        user_id, grant_id = user.id, grant.id
        subscription_id, delivery_id = subscription.id, delivery.id
    client = await gateway.client.post(
        "/api/v1/identity/clients",
        headers=province,
        json={
            "client_id": "longwan-app",
            "name": "龙湾",
            "department": "民政",
            "grants": [{"right": "auditor", "region": OTHER}],
        },
    )
    assert client.status_code == 201, client.text

    compensation = services["compensation"]
    hired = {
        "type": "worker.hired",
        "data": {
            "worker_id": worker_id,
            "name": "龙湾社工",
            "community_code": OTHER_COMMUNITY,
            "status": "active",
            "hire_date": "2025-01-05",
            "left_date": None,
            "education": "bachelor",
            "certificate_level": None,
            "certificate_date": None,
            "version": 1,
        },
    }
    post = {
        "type": "post.assigned",
        "data": {"worker_id": worker_id, "post": "staff", "grade": 3, "start_date": "2025-01-05"},
    }
    async with compensation.app.state.sessionmaker() as session:
        await compensation_worker(session, hired)
        await compensation_post(session, post)
        await session.commit()
    run = await compensation.client.post(
        "/v1/payroll-runs", headers=province, json={"region_code": OTHER_TOWNSHIP, "month": "2026-01"}
    )
    assert run.status_code == 201, run.text
    claim = await compensation.client.post(
        "/v1/recuperation-claims",
        headers=province,
        json={"worker_id": worker_id, "start_date": "2026-02-02", "days": 1, "amount": "100.00"},
    )
    assert claim.status_code == 201, claim.text
    async with compensation.app.state.sessionmaker() as session:
        await apply_evaluation_page(session, graded_events([worker_id], ("competent",), YEAR - 1, OTHER_TOWNSHIP))
        await session.commit()
    profile = await compensation.client.put(
        f"/v1/policy-profiles/{OTHER}/{YEAR - 1}",
        headers=province,
        json={
            "preset": None,
            "parameters": {"bonus_coefficients": COEFFICIENTS},
            "sources": {"bonus_coefficients": "龙湾"},
        },
    )
    assert profile.status_code == 200, profile.text
    allocation = await compensation.client.post(
        "/v1/bonus-allocations",
        headers=province,
        json={"township_code": OTHER_TOWNSHIP, "year": YEAR - 1, "pool": "1000.00"},
    )
    assert allocation.status_code == 201, allocation.text

    evaluation = services["evaluation"]
    async with evaluation.app.state.sessionmaker() as session:
        await evaluation_worker(session, hired)
        await session.commit()
    scheme = await evaluation.client.put(f"/v1/schemes/{OTHER}/{YEAR}", headers=province, json=NANHU_SCHEME)
    assert scheme.status_code == 200, scheme.text
    cycle = await evaluation.client.post(
        "/v1/cycles", headers=province, json={"township_code": OTHER_TOWNSHIP, "year": YEAR}
    )
    assert cycle.status_code == 201, cycle.text
    case = await evaluation.client.post(
        "/v1/work-cases",
        headers=province,
        json={"worker_id": worker_id, "year": YEAR, "title": "案例", "content": "内容"},
    )
    assert case.status_code == 201, case.text
    household = await evaluation.client.post(
        "/v1/must-visit-households",
        headers=province,
        json={
            "community_code": OTHER_COMMUNITY,
            "building": "1",
            "unit": "1",
            "household": "101",
            "category": "newly_moved_in",
            "since": TODAY,
        },
    )
    assert household.status_code == 201, household.text

    async with services["roster"].app.state.sessionmaker() as session:  # an import job of the other county
        job_id = await session.scalar(
            text(
                "INSERT INTO roster.import_jobs (kind, mode, status, region_code, region_path, file_name, file_sha256,"
                " content, created_by) VALUES ('workforce', 'all_or_nothing', 'rejected', :region, :path, 'w.csv',"
                " 'x', '\\x00', 'user:longwan') RETURNING id"
            ),
            {"region": OTHER, "path": OTHER + "000000"},
        )
        await session.commit()
    for service, kind in (("evaluation", "training"), ("compensation", "statistics")):  # theirs, the same id
        async with services[service].app.state.sessionmaker() as session:
            await session.execute(
                text(
                    f'INSERT INTO "{service}".import_jobs (id, kind, mode, status, region_code, region_path, file_name,'
                    " file_sha256, content, created_by) VALUES (:id, :kind, 'all_or_nothing', 'rejected', :region,"
                    " :path, 't.csv', 'x', '\\x00', 'user:longwan')"
                ),
                {"id": job_id, "kind": kind, "region": OTHER, "path": OTHER + "000000"},
            )
            await session.commit()
    names = {
        "worker_id": worker_id,
        "round_id": round_.json()["id"],
        "user_id": str(user_id),
        "grant_id": str(grant_id),
        "session_id": str(family),
        "client_id": "longwan-app",
        "county_code": OTHER,
        "region_code": OTHER,
        "code": OTHER_COMMUNITY,
        "year": str(YEAR),
        "kind": "urban_disposable_income",
        "run_id": run.json()["id"],
        "claim_id": claim.json()["id"],
        "allocation_id": allocation.json()["id"],
        "cycle_id": cycle.json()["id"],
        "case_id": case.json()["id"],
        "household_id": household.json()["id"],
        "community_code": OTHER_COMMUNITY,
        "building": "1",
        "unit": "1",
        "household": "101",
        "subscription_id": str(subscription_id),
        "delivery_id": str(delivery_id),
        "job_id": str(job_id),
        "import_kind": "workforce",
    }
    caller = await make_account(services["gateway"], ("county_admin", OURS), pd=(OURS,))
    return TwoCounties(services, names, bearer(caller.token))


async def test_objects_of_another_county_are_not_found_and_stay_unchanged(
    two_counties: TwoCounties, mint: Mint
) -> None:
    headers = {**two_counties.caller, "If-Match": '"x-1"'}
    failures: list[tuple[object, ...]] = []
    for (service, method, path), case in CASES.items():
        target = two_counties.services[service]
        names = two_counties.names
        before = {name: await _digest(s) for name, s in two_counties.services.items()}
        url = path.format(**(names | case.names))
        content_type = (
            {"Content-Type": "application/merge-patch+json"} if service == "compensation" and method == "PATCH" else {}
        )
        response = await target.client.request(
            method,
            url,
            params=_fill(case.params, names),
            headers={**headers, **content_type},
            json=_fill(case.body, names) if case.body is not None else None,
            files=case.files,
        )
        after = {name: await _digest(s) for name, s in two_counties.services.items()}
        json_answer = response.headers.get("content-type", "").split(";")[0].endswith("json")
        body = response.json() if response.content and json_answer else None  # a template is a workbook
        empty = response.status_code == 200 and (body == [] or (isinstance(body, dict) and body.get("items") == []))
        refused = (
            case.per_item
            and response.status_code == 200
            and all(
                r["outcome"] == "refused" and [e["type"] for e in r["errors"]] == ["not-found"]
                for r in (body or {}).get("results", [None])
            )
        )
        expected = refused if case.per_item else response.status_code == case.expect or (case.list_filter and empty)
        if not expected:
            failures.append((service, method, path, response.status_code, response.text[:200]))
        if before != after:
            changed = {n: [t for t in after[n] if after[n][t] != before[n].get(t)] for n in after}
            failures.append((service, method, path, "changed", {n: t for n, t in changed.items() if t}))
    assert failures == [], "\n".join(map(str, failures))
