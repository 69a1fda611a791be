"""What every service answers the same way: liveness, readiness, enums, the change feed."""

import pytest
from sqlalchemy import text

from conftest import Mint, ServiceFactory, bearer
from shared.migrations import head_revision

DOMAIN_SERVICES = ("roster", "compensation", "evaluation")


@pytest.mark.parametrize("service", DOMAIN_SERVICES)
async def test_healthz_and_readyz(service: str, service_app: ServiceFactory) -> None:
    svc = await service_app(service)
    alive = await svc.client.get("/healthz")
    assert alive.json() == {"status": "ok", "service": service}
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["service"], body["migration"]) == ("ready", service, head_revision(service))
    assert body["checks"]["database"]["status"] == "ok"


async def test_readyz_is_503_problem_when_migrations_lag(service_app: ServiceFactory) -> None:
    svc = await service_app("roster")
    svc.app.state.migration_head = "roster_9999"  # the code expects a revision the database lacks
    response = await svc.client.get("/readyz", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "roster_9999" in response.json()["detail"]


async def test_readyz_stays_ready_when_a_newer_release_migrated_ahead(service_app: ServiceFactory) -> None:
    """A rolling upgrade: the new release's migration Job ran, so the database is at a revision this (old)
    code does not have; expand-and-contract keeps the schema usable, so the old pods stay ready until the
    new ones replace them (docs/operations.md). A revision the code has before its head is still 503."""
    svc = await service_app("roster")
    current = head_revision("roster")
    svc.app.state.migration_head = "roster_old_head"  # the old code: its head and its revisions, not the new one
    svc.app.state.migration_revisions = frozenset({"roster_old_head"})
    response = await svc.client.get("/readyz", headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.text
    database = response.json()["checks"]["database"]
    assert database["status"] == "ok"
    assert f"database ahead of this code: at {current}" in database["detail"]
    assert response.json()["migration"] == current

    svc.app.state.migration_revisions = frozenset({"roster_old_head", str(current)})  # known, not head: behind
    assert (await svc.client.get("/readyz")).status_code == 503


async def test_readyz_is_503_problem_when_the_database_is_unreachable(service_app: ServiceFactory) -> None:
    svc = await service_app("evaluation", rollback=False, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/x")
    response = await svc.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["title"] == "服务暂不可用"
    assert (await svc.client.get("/healthz")).status_code == 200  # alive all the same


@pytest.mark.parametrize("service", DOMAIN_SERVICES)
async def test_events_feed_serves_committed_events_in_order(
    service: str, service_app: ServiceFactory, mint: Mint
) -> None:
    svc = await service_app(service, rollback=False)
    svc.client.headers.update(bearer(mint(("service", "330000"), subject="client:compensation")))
    first = await svc.client.get("/v1/events", params={"limit": 1000})
    assert first.status_code == 200
    start = first.json()["next_cursor"]
    async with svc.app.state.sessionmaker() as session:
        for n in range(3):
            await session.execute(
                text(f"INSERT INTO {service}.events (type, subject, data) VALUES ('test.made', :s, '{{}}')"),
                {"s": f"test/{n}"},
            )
        await session.commit()
    params = {"limit": 2} | ({"after": start} if start else {})
    page = (await svc.client.get("/v1/events", params=params)).json()
    assert [e["subject"] for e in page["items"]] == ["test/0", "test/1"]
    rest = (await svc.client.get("/v1/events", params={"after": page["next_cursor"]})).json()
    assert [e["subject"] for e in rest["items"]] == ["test/2"]


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": 1001}, {"after": "%%%"}])
async def test_events_feed_rejects_bad_paging_with_a_problem(
    bad: dict[str, str | int], service_app: ServiceFactory, mint: Mint
) -> None:
    svc = await service_app("roster")
    svc.client.headers.update(bearer(mint(("province_admin", "330000"))))
    response = await svc.client.get("/v1/events", params=bad)
    assert response.status_code in {400, 422}
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("grants", "status"),
    [
        ((), 401),  # no token at all
        ((("worker", "330302001001"),), 403),  # a worker reads no feed
        ((("county_admin", "330302"),), 200),  # a county admin reads its county's events (region-scoped)
        ((("auditor", "330300"),), 200),  # a city-level auditor its city's
        ((("auditor", "330000"),), 200),
        ((("service", "330000"),), 200),
    ],
)
async def test_events_feed_is_for_services_and_region_readers(
    grants: tuple[tuple[str, str], ...], status: int, service_app: ServiceFactory, mint: Mint
) -> None:
    svc = await service_app("evaluation")
    headers = bearer(mint(*grants)) if grants else {}
    response = await svc.client.get("/v1/events", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
