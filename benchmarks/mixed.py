"""Benchmark: a mixed load through the gateway, bounded by time, loopback only (issue #16).

The four services run as real processes (``benchmarks/_suite.py``: a real signed-in account, one worker and
one payslip seeded through the API). 16 concurrent clients then loop for the duration over a weighted mix:
worker reads (6 in 12), payslip reads (2 in 12), visit uploads (2 in 12: the mobile app's path, ``POST
evaluation /visits:batch`` with three visits and its ``Idempotency-Key``; one upload in four is the app
sending its last batch again under the same key, as after a lost connection, which must be answered with
the stored response, ``Idempotency-Replayed: true``), the county's staffing report (1 in 12), the anonymous
enums (1 in 12); a payroll recalculation of the seeded run runs once at the start of each phase, beside the
load. Every answer must be 2xx and every uploaded visit stored (or, for a repeated batch, replayed): 0
errors expected; throughput and p50/p99 are recorded. The floor: the same mix at the services directly, in
the same run (capped at 15 s).

Default 30 s; ``--minutes 10`` with ``--full``; ``--size mixed=N`` for N seconds.

    .venv/bin/python -m benchmarks --only mixed [--minutes 1]
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx

from benchmarks._suite import COMMUNITY, COUNTY, Suite, eventually, running_suite
from benchmarks.common import Result, children_peak_rss_mib

NAME = "mixed"
ORDER = 45
CLIENTS = 16
SMALL, FULL = 30, 600
FLOOR_CAP = 15
VISITS_PER_UPLOAD = 3
RETRY_SHARE = 0.25  # of visit uploads: the last batch again, same key (the app after a lost connection)


def url_of(suite: Suite, via_gateway: bool, service: str, path: str) -> str:
    if via_gateway:
        return f"{suite.gateway}/api/v1/{service}/{path}"
    return f"{suite.direct[service]}/v1/{path}"


def mix(suite: Suite, via_gateway: bool) -> list[tuple[str, str, str]]:
    """(kind, method, URL) with repetitions as weights."""

    def url(service: str, path: str) -> str:
        return url_of(suite, via_gateway, service, path)

    worker = ("worker", "GET", url("roster", f"workers/{suite.worker_id}"))
    slip = ("payslip", "GET", url("compensation", f"payroll-runs/{suite.run_id}/payslips"))
    visits = ("visit upload", "POST", url("evaluation", "visits:batch"))
    report = ("report", "GET", url("roster", f"reports/staffing?region={COUNTY}"))
    enums = ("enums", "GET", url("roster", "meta/enums"))
    return [worker] * 6 + [slip] * 2 + [visits] * 2 + [report, enums]


def visit_batch(suite: Suite, rng: random.Random) -> dict[str, Any]:
    """What the app uploads after a round of visits: three visits of the seeded worker, made an hour ago."""
    ended = datetime.now(UTC) - timedelta(hours=1)
    return {
        "visits": [
            {
                "id": str(uuid.uuid4()),  # not from rng: each phase stores its own visits
                "community_code": COMMUNITY,
                "building": str(rng.randint(1, 30)),
                "unit": str(rng.randint(1, 6)),
                "household": str(rng.randint(101, 1802)),
                "started_at": (ended - timedelta(minutes=rng.randint(10, 60))).isoformat(),
                "ended_at": ended.isoformat(),
                "note": "入户走访",
                "worker_id": suite.worker_id,
            }
            for _ in range(VISITS_PER_UPLOAD)
        ]
    }


def visits_ready(suite: Suite) -> None:
    """Wait until the evaluation service knows the seeded worker (its roster feed is asynchronous)."""

    def stored() -> bool:
        body = visit_batch(suite, random.Random())
        answer = httpx.post(
            url_of(suite, True, "evaluation", "visits:batch"), headers=suite.headers, json=body, timeout=30
        )
        return answer.status_code == 200 and answer.json()["stored"] == VISITS_PER_UPLOAD

    eventually(stored)


async def phase(suite: Suite, via_gateway: bool, seconds: int) -> tuple[float, list[float], Counter[str], int]:
    """(requests/s, sorted latencies, answers by kind, errors)."""
    choices = mix(suite, via_gateway)
    calculate = (
        f"{suite.gateway}/api/v1/compensation/payroll-runs/{suite.run_id}/calculate"
        if via_gateway
        else f"{suite.direct['compensation']}/v1/payroll-runs/{suite.run_id}/calculate"
    )
    latencies: list[float] = []
    answered: Counter[str] = Counter()
    errors = 0
    rng = random.Random(16)
    stop = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CLIENTS + 1), headers=suite.headers, timeout=timeout
    ) as session:

        async def request(kind: str, method: str, url: str, last: list[tuple[str, dict[str, Any], bytes]]) -> None:
            nonlocal errors
            headers, body, replay = {}, None, None
            if kind == "visit upload":
                if last and rng.random() < RETRY_SHARE:  # the app sends its last batch again, same key
                    kind = "visit upload again"
                    key, body, replay = last[-1]
                else:
                    key, body = str(uuid.uuid4()), visit_batch(suite, rng)
                headers = {"Idempotency-Key": key}
            started = time.perf_counter()
            async with session.request(method, url, json=body, headers=headers) as response:
                content = await response.read()
                wrong = response.status >= 300
                if kind == "visit upload" and not wrong:
                    wrong = (await response.json())["stored"] != VISITS_PER_UPLOAD
                    last[:] = [(headers["Idempotency-Key"], body or {}, content)]
                elif kind == "visit upload again" and not wrong:
                    wrong = response.headers.get("idempotency-replayed") != "true" or content != replay
                if wrong:
                    errors += 1
                    print(f"{kind}: {response.status} {content[:300]!r}", flush=True)
            latencies.append(time.perf_counter() - started)
            answered[kind] += 1

        async def client() -> None:
            last: list[tuple[str, dict[str, Any], bytes]] = []  # this client's (app's) last upload
            while time.monotonic() < stop:
                await request(*rng.choice(choices), last)

        started = time.perf_counter()
        upload = next(choice for choice in choices if choice[0] == "visit upload")
        await asyncio.gather(
            request("payroll run", "POST", calculate, []),
            request(*upload, []),  # at least one upload however short the phase
            *(client() for _ in range(CLIENTS)),
        )
        elapsed = time.perf_counter() - started
    latencies.sort()
    return len(latencies) / elapsed, latencies, answered, errors


def _q(latencies: list[float], q: float) -> float:
    return latencies[int(q * (len(latencies) - 1))] * 1000 if latencies else 0.0


def run(size: int | None, full: bool) -> list[Result]:
    seconds = size or (FULL if full else SMALL)
    with running_suite() as suite:
        visits_ready(suite)
        through, lat, answered, errors = asyncio.run(phase(suite, True, seconds))
        direct, direct_lat, direct_answered, direct_errors = asyncio.run(phase(suite, False, min(seconds, FLOOR_CAP)))
    p50, p99 = _q(lat, 0.5), _q(lat, 0.99)
    print(f"gateway {through:.0f}/s p50 {p50:.1f} ms p99 {p99:.1f} ms; direct {direct:.0f}/s", flush=True)
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(answered.items()))
    return [
        Result(
            path=f"mixed load through the gateway ({CLIENTS} clients: reads, visit uploads, reports, a payroll run)",
            size=f"{seconds} s, loopback",
            figure=through,
            unit="requests/s",
            floor_label=f"the same mix at the services directly ({min(seconds, FLOOR_CAP)} s)",
            floor=direct,
            higher_is_better=True,
            target="0 errors",
            met=errors == 0,
            checks=[f"{errors} errors through the gateway, {direct_errors} direct", f"answered: {kinds}"],
            checks_passed=errors == direct_errors == 0
            and answered["payroll run"] == 1
            and answered["visit upload"] > 0
            and len(lat) > 1,
            peak_rss_mib=children_peak_rss_mib(),
            notes=f"gateway p50 {p50:.1f} ms, p99 {p99:.1f} ms; direct p50 {_q(direct_lat, 0.5):.1f} ms, "
            f"p99 {_q(direct_lat, 0.99):.1f} ms; {sum(direct_answered.values()):,} direct answers; "
            f"{answered['visit upload'] * VISITS_PER_UPLOAD:,} visits stored through the gateway, "
            f"{answered['visit upload again']:,} batches sent again and replayed",
        )
    ]
