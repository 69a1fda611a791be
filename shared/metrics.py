"""Prometheus metrics of every service: ``GET /metrics`` (text format 0.0.4), issue #15.

Series (every one labelled with ``service``):

- ``shegong_http_requests_total{method,route,status}`` and ``shegong_http_request_duration_seconds{method,
  route}``: by route *template* (``/v1/workers/{worker_id}``), never by raw path; a path no route matches
  is counted as ``<unmatched>``. Counted in a pure ASGI middleware outside everything else.
- ``shegong_db_pool_connections{state}`` (``checked_out``, ``idle``, ``overflow``) and
  ``shegong_db_pool_size``: the SQLAlchemy pool of this process.
- ``shegong_outbox_head_position``, ``shegong_outbox_head_event_id``, ``shegong_outbox_newest_event_age_seconds``:
  the producer's side of its change feed (commit position and newest event).
- ``shegong_feed_lag_events{source}`` and ``shegong_feed_lag_seconds{source}``: each feed this service
  consumes, its cursor against the source's head, asked of the source at scrape time (so a stopped
  consumer's lag rises); events counted up to 1000. ``shegong_feed_lag_readable{source}`` is 0 when the
  source could not be asked. ``shegong_feed_events_applied_total{source}`` and
  ``shegong_feed_pages_dropped_total{source}`` count this replica's work: summed over replicas, each event
  is applied once (``shared.feed_consumer``).
- ``shegong_import_jobs{status}``: rows of the service's ``import_jobs`` table by status, when it has one.
- ``shegong_metrics_database_readable``: 0 when the database could not be read for this scrape (the
  series above that need it are then left out; the others are still served).
- whatever the service adds (``app.state.metric_readers``): compensation's payroll series
  (``services.compensation.payroll_metrics``).

One process serves one uvicorn worker (``shared.serve``), so the default registry is right: several
replicas are several scrape targets. Scrape-time series are read afresh on each scrape (a few indexed
queries and one feed call per consumed feed, each bounded by ``readiness_timeout_seconds``).

Who may read it: ``/metrics`` is not part of the public API (not in OpenAPI, not routed by the gateway's
``/api/v1/…``). It answers only a peer in ``metrics_networks`` (default loopback; in a cluster, the pod
network Prometheus scrapes from) that came straight, not through a proxy (no ``X-Forwarded-For``);
anyone else gets 404, as if there were nothing there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any, cast

from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import String, Table, column, func, select, table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.events import commits_of
from shared.feed_consumer import FeedConsumer
from shared.i18n import Message as Text
from shared.problems import NotFound, problem_response

if TYPE_CHECKING:
    from shared.state import MetricsState

MetricReader = Callable[[FastAPI, AsyncSession], Awaitable[Iterable[Metric]]]
UNMATCHED = "<unmatched>"
_log = logging.getLogger("shegong.metrics")

HTTP_REQUESTS = Counter(
    "shegong_http_requests",
    "HTTP requests answered, by route template and status",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "shegong_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


class MetricsMiddleware:
    """Pure ASGI, outermost: counts every answer, including the ones the other middlewares give."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, template, str(status[0])).inc()
            HTTP_DURATION.labels(self.service, method, template).observe(time.perf_counter() - started)


class _Fixed(Collector):
    """Families already read (the scrape-time series), served once from a throwaway registry."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def pool_metrics(service: str, engine: Any) -> list[Metric]:
    pool = engine.pool
    connections = GaugeMetricFamily(
        "shegong_db_pool_connections", "Database connections of this process's pool", labels=["service", "state"]
    )
    size = GaugeMetricFamily("shegong_db_pool_size", "Configured size of the pool", labels=["service"])
    if all(hasattr(pool, name) for name in ("checkedout", "checkedin", "overflow", "size")):
        connections.add_metric([service, "checked_out"], pool.checkedout())
        connections.add_metric([service, "idle"], pool.checkedin())
        connections.add_metric([service, "overflow"], max(0, pool.overflow()))
        size.add_metric([service], pool.size())
    return [connections, size]


async def outbox_metrics(service: str, session: AsyncSession, events: Table) -> list[Metric]:
    commits = commits_of(events)
    position = await session.scalar(select(func.max(commits.c.position)))
    newest = (
        await session.execute(select(events.c.id, events.c.occurred_at).order_by(events.c.id.desc()).limit(1))
    ).first()
    head = GaugeMetricFamily("shegong_outbox_head_position", "Commit position of the newest event", labels=["service"])
    head.add_metric([service], float(position or 0))
    head_id = GaugeMetricFamily(
        "shegong_outbox_head_event_id", "Id of the newest event in the outbox", labels=["service"]
    )
    head_id.add_metric([service], float(newest[0]) if newest else 0.0)
    age = GaugeMetricFamily(
        "shegong_outbox_newest_event_age_seconds", "Seconds since the newest event was written", labels=["service"]
    )
    age.add_metric([service], (datetime.now(UTC) - newest[1]).total_seconds() if newest else 0.0)
    return [head, head_id, age]


async def feed_metrics(
    service: str, feeds: list[FeedConsumer], cursors: list[str | None], timeout: float
) -> list[Metric]:
    labels = ["service", "source"]
    lag_events = GaugeMetricFamily("shegong_feed_lag_events", "Events of the source not yet applied", labels=labels)
    lag_seconds = GaugeMetricFamily(
        "shegong_feed_lag_seconds", "Age of the oldest event of the source not yet applied", labels=labels
    )
    readable = GaugeMetricFamily("shegong_feed_lag_readable", "1 when the source answered the lag check", labels=labels)
    applied = CounterMetricFamily("shegong_feed_events_applied", "Events applied by this replica", labels=labels)
    dropped = CounterMetricFamily(
        "shegong_feed_pages_dropped", "Pages another replica applied first (dropped here)", labels=labels
    )

    async def one(feed: FeedConsumer, cursor: str | None) -> None:
        key = [service, feed.source]
        applied.add_metric(key, feed.events_applied)
        dropped.add_metric(key, feed.pages_dropped)
        try:
            lag = await asyncio.wait_for(feed.lag_after(cursor), timeout)
        except Exception as exc:  # the source is away: say so, do not fail the scrape
            _log.warning("feed %s: lag not readable: %s", feed.source, type(exc).__name__)
            readable.add_metric(key, 0)
            return
        readable.add_metric(key, 1)
        lag_events.add_metric(key, lag.events)
        lag_seconds.add_metric(key, lag.seconds)

    await asyncio.gather(*(one(feed, cursor) for feed, cursor in zip(feeds, cursors, strict=True)))
    return [lag_events, lag_seconds, readable, applied, dropped]


async def import_job_metrics(service: str, schema: str, session: AsyncSession) -> list[Metric]:
    """``import_jobs`` rows by status, if this service has that table (another change adds it)."""
    jobs = GaugeMetricFamily("shegong_import_jobs", "Import jobs by status", labels=["service", "status"])
    found = await session.scalar(select(func.to_regclass(f"{schema}.import_jobs")))
    if found is not None:
        status = column("status", String)  # the only column read; the table is another change's
        imports = table("import_jobs", status, schema=schema)
        rows = await session.execute(select(status, func.count()).select_from(imports).group_by(status))
        for value, count in rows:
            jobs.add_metric([service, str(value)], count)
    return [jobs]


def peer_may_scrape(request: Request) -> bool:
    networks = request.app.state.settings.metrics_networks
    if request.client is None or "x-forwarded-for" in request.headers:
        return False
    try:
        peer = ip_address(request.client.host)
    except ValueError:
        return False
    return any(peer in network for network in networks)


async def metrics_endpoint(request: Request) -> Response:
    if not peer_may_scrape(request):
        return problem_response(NotFound(Text("没有这个地址", "Not found")), request)
    app: FastAPI = request.app
    state = cast("MetricsState", app.state)
    service = state.service_name
    timeout = state.settings.readiness_timeout_seconds
    families = pool_metrics(service, state.engine)
    schema = state.metrics_schema
    events = state.metrics_outbox
    readers = state.metric_readers
    feeds = state.feeds
    readable = GaugeMetricFamily(
        "shegong_metrics_database_readable", "1 when this scrape could read the database", labels=["service"]
    )
    cursors: list[str | None] = []
    try:
        async with state.sessionmaker() as session:
            cursors = [await feed.cursor(session) for feed in feeds]
            read: list[Metric] = []
            if events is not None:
                read += await outbox_metrics(service, session, events)
            read += await import_job_metrics(service, schema, session)
            for reader in readers:
                read += list(await reader(app, session))
        families += read
        readable.add_metric([service], 1)
    except (SQLAlchemyError, OSError) as exc:  # the database is away: the rest is still worth serving
        _log.warning("metrics: database not readable: %s", type(exc).__name__)
        readable.add_metric([service], 0)
        feeds = []
    families.append(readable)
    # The sources are asked after the session is closed: no database work waits on them.
    families += await feed_metrics(service, feeds, cursors, timeout)
    body = generate_latest(REGISTRY) + generate_latest(_registry_of(families))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _registry_of(families: list[Metric]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families))
    return registry


def install_metrics(app: FastAPI, *, service: str, schema: str, outbox: Table | None) -> None:
    """``/metrics`` and the request counting of one service app (a service adds its own series to
    ``app.state.metric_readers``)."""
    app.state.metrics_schema = schema
    app.state.metrics_outbox = outbox
    app.state.metric_readers = []
    app.add_middleware(MetricsMiddleware, service=service)
    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
