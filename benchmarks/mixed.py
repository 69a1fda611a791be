"""Benchmark: a mixed load through the gateway, bounded by time, loopback only (issue #16).

The four services run as real processes (``benchmarks/_suite.py``: a real signed-in account, one worker and
one payslip seeded through the API). 16 concurrent clients then loop for the duration over a weighted mix:
worker reads (6 in 10), payslip reads (2 in 10), the county's staffing report (1 in 10), the anonymous enums
(1 in 10); a payroll recalculation of the seeded run runs once at the start of each phase, beside the load.
Every answer must be 2xx (0 errors expected); throughput and p50/p99 are recorded. The floor: the same mix
at the services directly, in the same run (capped at 15 s). Visit uploads are not in the mix yet.

Default 30 s; ``--minutes 10`` with ``--full``; ``--size mixed=N`` for N seconds.

    .venv/bin/python -m benchmarks --only mixed [--minutes 1]
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import aiohttp

from benchmarks._suite import COUNTY, Suite, running_suite
from benchmarks.common import Result, children_peak_rss_mib

NAME = "mixed"
ORDER = 45
CLIENTS = 16
SMALL, FULL = 30, 600
FLOOR_CAP = 15


def mix(suite: Suite, via_gateway: bool) -> list[tuple[str, str, str]]:
    """(kind, method, URL) with repetitions as weights."""

    def url(service: str, path: str) -> str:
        if via_gateway:
            return f"{suite.gateway}/api/v1/{service}/{path}"
        return f"{suite.direct[service]}/v1/{path}"

    worker = ("worker", "GET", url("roster", f"workers/{suite.worker_id}"))
    slip = ("payslip", "GET", url("compensation", f"payroll-runs/{suite.run_id}/payslips"))
    report = ("report", "GET", url("roster", f"reports/staffing?region={COUNTY}"))
    enums = ("enums", "GET", url("roster", "meta/enums"))
    return [worker] * 6 + [slip] * 2 + [report, enums]


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

        async def request(kind: str, method: str, url: str) -> None:
            nonlocal errors
            started = time.perf_counter()
            async with session.request(method, url) as response:
                await response.read()
                if response.status >= 300:
                    errors += 1
                    print(f"{kind}: {response.status} {(await response.text())[:300]}", flush=True)
            latencies.append(time.perf_counter() - started)
            answered[kind] += 1

        async def client() -> None:
            while time.monotonic() < stop:
                await request(*rng.choice(choices))

        started = time.perf_counter()
        await asyncio.gather(request("payroll run", "POST", calculate), *(client() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return len(latencies) / elapsed, latencies, answered, errors


def _q(latencies: list[float], q: float) -> float:
    return latencies[int(q * (len(latencies) - 1))] * 1000 if latencies else 0.0


def run(size: int | None, full: bool) -> list[Result]:
    seconds = size or (FULL if full else SMALL)
    with running_suite() as suite:
        through, lat, answered, errors = asyncio.run(phase(suite, True, seconds))
        direct, direct_lat, direct_answered, direct_errors = asyncio.run(phase(suite, False, min(seconds, FLOOR_CAP)))
    p50, p99 = _q(lat, 0.5), _q(lat, 0.99)
    print(f"gateway {through:.0f}/s p50 {p50:.1f} ms p99 {p99:.1f} ms; direct {direct:.0f}/s", flush=True)
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(answered.items()))
    return [
        Result(
            path=f"mixed load through the gateway ({CLIENTS} clients: reads, reports, a payroll run)",
            size=f"{seconds} s, loopback",
            figure=through,
            unit="requests/s",
            floor_label=f"the same mix at the services directly ({min(seconds, FLOOR_CAP)} s)",
            floor=direct,
            higher_is_better=True,
            target="0 errors",
            met=errors == 0,
            checks=[f"{errors} errors through the gateway, {direct_errors} direct", f"answered: {kinds}"],
            checks_passed=errors == direct_errors == 0 and answered["payroll run"] == 1 and len(lat) > 1,
            peak_rss_mib=children_peak_rss_mib(),
            notes=f"gateway p50 {p50:.1f} ms, p99 {p99:.1f} ms; direct p50 {_q(direct_lat, 0.5):.1f} ms, "
            f"p99 {_q(direct_lat, 0.99):.1f} ms; {sum(direct_answered.values()):,} direct answers; "
            "visit uploads not in the mix yet",
        )
    ]
