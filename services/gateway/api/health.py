"""``GET /healthz`` of the gateway: the readiness of every service of the suite, checked now."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.gateway.schemas import ServiceHealth, SuiteHealth
from services.gateway.state import gateway_state
from services.gateway.upstreams import replicas
from shared.health import database_revision, schema_state
from shared.problems import problem_responses

router = APIRouter(tags=["health"])


async def _check_service(client: httpx.AsyncClient, base: str, timeout: float) -> ServiceHealth:
    started = time.perf_counter()
    try:
        response = await client.get(f"{base}/readyz", timeout=timeout)
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        body = response.json()
        if response.status_code == 200:
            return ServiceHealth(status="ready", migration=body.get("migration"), latency_ms=elapsed)
        return ServiceHealth(status="unavailable", detail=body.get("detail"), latency_ms=elapsed)
    except (httpx.HTTPError, ValueError) as exc:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return ServiceHealth(status="unavailable", detail=type(exc).__name__, latency_ms=elapsed)


async def _check_replicas(client: httpx.AsyncClient, configured: str, timeout: float) -> ServiceHealth:
    """A service is ready when every one of its replicas is (the detail names those that are not)."""
    urls = replicas(configured)
    checks = await asyncio.gather(*(_check_service(client, url, timeout) for url in urls))
    if len(checks) == 1:
        return checks[0]
    latency = max(c.latency_ms for c in checks)
    failing = [f"{url}: {c.detail}" for url, c in zip(urls, checks, strict=True) if c.status != "ready"]
    if failing:
        return ServiceHealth(status="unavailable", detail="; ".join(failing), latency_ms=latency)
    return ServiceHealth(status="ready", migration=checks[0].migration, latency_ms=latency)


async def _check_gateway(request: Request, timeout: float) -> ServiceHealth:
    started = time.perf_counter()
    try:
        current = await database_revision(gateway_state(request).engine, "gateway", timeout)
    except Exception as exc:  # any failure to reach the database is "unavailable", reported, not raised
        return ServiceHealth(
            status="unavailable", detail=type(exc).__name__, latency_ms=round((time.perf_counter() - started) * 1000, 1)
        )
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    state = gateway_state(request)
    if schema_state(current, state.migration_head, state.migration_revisions) == "behind":
        return ServiceHealth(status="unavailable", detail=f"migration {current} is not head", latency_ms=elapsed)
    return ServiceHealth(status="ready", migration=current, latency_ms=elapsed)


@router.get(
    "/healthz",
    summary="整体健康 health of the whole suite: each service's readiness (503 when any is not ready)",
    response_model=SuiteHealth,
    responses={
        503: {"model": SuiteHealth, "description": "至少一个服务未就绪 at least one service is not ready"},
        **problem_responses(500),
    },
)
async def suite_health(request: Request) -> JSONResponse:
    settings = gateway_state(request).settings
    timeout = settings.health_timeout_seconds
    upstreams: dict[str, str] = gateway_state(request).upstreams
    checks = await asyncio.gather(
        _check_gateway(request, timeout),
        *(_check_replicas(gateway_state(request).http, base, timeout) for base in upstreams.values()),
    )
    services = dict(zip(["gateway", *upstreams], checks, strict=True))
    healthy = all(check.status == "ready" for check in checks)
    body = SuiteHealth(status="ok" if healthy else "degraded", services=services)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if healthy else 503)
