"""Two replicas of every service (issue #15), as real processes on a database of their own: the gateways
balance between the service replicas, a user's rate limit holds across both gateways, and every event of
a feed is applied once across the consumer replicas (each replica's ``/metrics`` counts what it applied;
the sums equal the feed's events, and every lag comes back to 0)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import PostgresServer, bearer
from shared.migrations import SERVICE_NAMES, upgrade
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, run_bootstrap, running_suite, signed_in, token_for

pytestmark = pytest.mark.e2e
USER_LIMIT = 30  # per user and hour: the probe below sends twice that, alternating gateways
WINDOW = 3600  # one request back every 120 s: however slow the machine, the probe sees hardly any refill
PROVINCE = "330000"
COUNTY = "330481"  # 海宁市: this suite's own database, no other test sees it


@pytest.fixture(scope="module")
def replicated(
    postgres_server: PostgresServer, signing_keys_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Suite]:
    name = f"shegong_replicas_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(postgres_server.create(name))
    try:
        for service in SERVICE_NAMES:
            upgrade(service, "head", url)
        bootstrap = run_bootstrap(url, tmp_path_factory.mktemp("replicas-bootstrap"))
        with running_suite(
            url,
            signing_keys_dir,
            bootstrap,
            tmp_path_factory.mktemp("replicas-logs"),
            rate_limit_user=USER_LIMIT,
            rate_limit_window=WINDOW,
            replicas=2,
        ) as suite:
            yield suite
    finally:
        asyncio.run(postgres_server.drop(name))


def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in values.items() if n == name and set(labels.items()) <= set(ls))


def feed_events(suite: Suite, source: str, headers: dict[str, str]) -> int:
    """How many events the source's feed holds, read to its end."""
    count, after = 0, None
    while True:
        params: dict[str, str | int] = {"limit": 1000, **({"after": after} if after else {})}
        page = httpx.get(f"{suite.service_url(source)}/v1/events", params=params, headers=headers, timeout=10).json()
        count += len(page["items"])
        if len(page["items"]) < 1000:
            return count
        after = page["next_cursor"]


def caught_up(suite: Suite, consumer: str, source: str, timeout: float = 60) -> list[float]:
    """Wait until every replica of ``consumer`` has no lag on ``source``; the events each applied."""
    deadline = time.monotonic() + timeout
    while True:
        scraped = [metrics(port) for port in suite.replica_ports[consumer]]
        lags = [sample(m, "shegong_feed_lag_events", source=source) for m in scraped]
        readable = all(sample(m, "shegong_feed_lag_readable", source=source) == 1 for m in scraped)
        if readable and lags == [0.0] * len(scraped):
            return [sample(m, "shegong_feed_events_applied_total", source=source) for m in scraped]
        assert time.monotonic() < deadline, f"{consumer} replicas still behind {source}: {lags}"
        time.sleep(0.3)


def test_the_rate_limit_holds_across_gateway_replicas(replicated: Suite) -> None:
    assert len(replicated.gateways) == 2
    probe = signed_in(replicated, "worker", "330481001001")
    started = time.monotonic()
    answers = [
        httpx.get(f"{replicated.gateways[n % 2]}/api/v1/auth/me", headers=probe, timeout=10).status_code
        for n in range(2 * USER_LIMIT)
    ]
    refill = int((time.monotonic() - started) / (WINDOW / USER_LIMIT)) + 1
    admitted = answers.count(200)
    # One limit for both gateways: USER_LIMIT (and what came back meanwhile), not twice it.
    assert USER_LIMIT <= admitted <= USER_LIMIT + refill, answers
    assert answers.count(429) == len(answers) - admitted
    assert 429 in answers[0::2]
    assert 429 in answers[1::2]  # both gateways refuse


def test_each_event_is_applied_once_across_consumer_replicas(replicated: Suite) -> None:
    admin = bearer(token_for(replicated, "admin", ADMIN_PASSWORD)["access_token"])
    gateways = replicated.gateways
    # Writes through both gateways, so through both roster replicas: a branch of regions and a quota.
    codes = [PROVINCE, "330400", COUNTY, "330481001000", "330481001001"]
    for n, code in enumerate(codes):
        body: dict[str, object] = {"code": code, "name": f"嘉兴{n}", "parent_code": codes[n - 1] if n else None}
        if n == len(codes) - 1:
            body |= {"kind": "urban", "households": 1500}
        made = httpx.post(f"{gateways[n % 2]}/api/v1/roster/regions", headers=admin, json=body, timeout=10)
        assert made.status_code == 201, made.text
    for n, year in enumerate((2026, 2027, 2028, 2029)):
        quota = httpx.put(
            f"{gateways[n % 2]}/api/v1/roster/quotas/{COUNTY}/{year}", headers=admin, json={"headcount": 40}, timeout=10
        )
        assert quota.status_code == 200, quota.text
    served = [
        sample(metrics(port), "shegong_http_requests_total", method="POST")
        for port in replicated.replica_ports["roster"]
    ]
    assert all(count >= 1 for count in served), served  # the gateways balanced between the roster replicas

    events = feed_events(replicated, "roster", admin)
    assert events >= len(codes) + 4
    for consumer in ("compensation", "evaluation"):
        applied = caught_up(replicated, consumer, "roster")
        assert sum(applied) == events, (consumer, applied, events)  # each event once, by one replica
    assert feed_events(replicated, "roster", admin) == events  # nothing new meanwhile: the sums were final
