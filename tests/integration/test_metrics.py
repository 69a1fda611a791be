"""``/metrics`` on every service (issue #15): request rate and latency by route template, the database
pool, the outbox head, each consumed feed's lag (rising while its consumer is stopped, falling once it runs
again), payroll runs; refused to peers outside ``metrics_networks`` and to requests that came through a
proxy. Real commits, in a province (海南 460000) no other test uses."""

from __future__ import annotations

from ipaddress import ip_network

from prometheus_client.parser import text_string_to_metric_families

from conftest import InProcessService, Mint, ServiceFactory, bearer
from tests.integration.regions import region_tree
from tests.integration.test_feeds import drain, wire

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(service: InProcessService) -> Samples:
    response = await service.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (at least one must)."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls)]
    assert found, (name, labels)
    return sum(found)


async def test_every_service_answers_metrics_with_its_series(service_app: ServiceFactory, mint: Mint) -> None:
    admin = bearer(mint(("province_admin", "330000")))
    for name in ("gateway", "roster", "compensation", "evaluation"):
        service = await service_app(name)
        assert (await service.client.get("/readyz")).status_code in (200, 503)
        if name != "gateway":  # minted tokens are refused by the gateway (unknown accounts)
            assert (await service.client.get("/v1/regions/330000", headers=admin)).status_code in (200, 404)
        samples = await scrape(service)
        route = "/v1/regions/{code}" if name == "roster" else "/readyz"
        assert value(samples, "shegong_http_requests_total", service=name, route=route, method="GET") >= 1
        assert value(samples, "shegong_http_request_duration_seconds_count", service=name, route=route) >= 1
        assert value(samples, "shegong_db_pool_size", service=name) >= 1
        assert value(samples, "shegong_db_pool_connections", service=name, state="checked_out") >= 0
        if name != "gateway":
            assert value(samples, "shegong_outbox_head_position", service=name) >= 0
            assert value(samples, "shegong_outbox_newest_event_age_seconds", service=name) >= 0
        assert ("shegong_import_jobs", ()) not in samples  # no import_jobs table yet: no series, no error
        # A path no route knows is counted under one label, not one per path (bounded cardinality).
        await service.client.get(f"/no/such/{name}/path")
        after = await scrape(service)
        assert value(after, "shegong_http_requests_total", service=name, route="<unmatched>", status="404") >= 1
        assert not any("/no/such" in dict(labels).get("route", "") for _, labels in after)
    compensation = await service_app("compensation")
    samples = await scrape(compensation)
    assert value(samples, "shegong_payroll_runs", status="calculating") >= 0
    assert value(samples, "shegong_payroll_calculating_seconds") >= 0
    for feed in ("roster", "evaluation"):  # the feeds compensation reads (sources away here: not readable)
        assert value(samples, "shegong_feed_events_applied_total", service="compensation", source=feed) >= 0


async def test_metrics_are_not_for_everyone(service_app: ServiceFactory) -> None:
    roster = await service_app("roster")
    through_a_proxy = await roster.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert through_a_proxy.status_code == 404
    assert through_a_proxy.headers["content-type"] == "application/problem+json"
    elsewhere = await service_app("roster", metrics_networks=[ip_network("10.0.0.0/8")])
    assert (await elsewhere.client.get("/metrics")).status_code == 404  # the test client is 127.0.0.1
    gateway = await service_app("gateway")
    assert (await gateway.client.get("/api/v1/roster/metrics")).status_code in (401, 404, 503)
    assert "/metrics" not in (await service_app("roster")).app.openapi()["paths"]


async def test_feed_lag_rises_while_the_consumer_is_stopped_and_falls_after(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    evaluation = await service_app("evaluation", rollback=False)
    await wire(evaluation, roster, mint(("service", "460000"), subject="client:evaluation"))
    await drain(evaluation, at_least=0)
    before = await scrape(evaluation)
    assert value(before, "shegong_feed_lag_readable", source="roster") == 1
    assert value(before, "shegong_feed_lag_events", source="roster") == 0
    assert value(before, "shegong_feed_lag_seconds", source="roster") == 0
    head_before = value(await scrape(roster), "shegong_outbox_head_position", service="roster")

    # The consumer does not poll (feeds are not run in the background in these tests): the roster writes.
    await region_tree(roster, bearer(mint(("province_admin", "460000"))), "460000")
    assert value(await scrape(roster), "shegong_outbox_head_position", service="roster") >= head_before + 5
    behind = await scrape(evaluation)
    assert value(behind, "shegong_feed_lag_events", source="roster") >= 5
    assert value(behind, "shegong_feed_lag_seconds", source="roster") > 0
    applied_before = value(behind, "shegong_feed_events_applied_total", source="roster")

    await drain(evaluation, at_least=5)  # the consumer runs again
    after = await scrape(evaluation)
    assert value(after, "shegong_feed_lag_events", source="roster") == 0
    assert value(after, "shegong_feed_lag_seconds", source="roster") == 0
    assert value(after, "shegong_feed_events_applied_total", source="roster") >= applied_before + 5
