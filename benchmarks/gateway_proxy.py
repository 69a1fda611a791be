"""Benchmark: JSON reads through the gateway, beside the same reads at the service directly.

Starts its own PostgreSQL (in a temporary folder), migrates, runs the four services as real processes (one
uvicorn process each, as `make up` does; ``benchmarks/_suite.py``), signs in a real account (the gateway
refuses tokens of accounts it does not know), seeds one worker and one payslip through the API, then loads
loopback with wrk (64 connections, 4 threads) or, without wrk, a bounded aiohttp load loop, for three reads:
the anonymous enums (``/meta/enums``), a worker (``GET roster /workers/{id}``) and a payslip (``GET
compensation /payroll-runs/{id}/payslips``), each through the gateway and at the service.

The direct read is the floor (same request, same process, same run); the ratio is direct ÷ gateway
throughput (target ≥ 0.55 of direct, i.e. ratio ≤ 1.82) and the p99 the gateway adds (≤ 5 ms). The notes
also give the CPU time each process spent per request (``/proc/<pid>/stat``: the gateway's own cost, and
the service's, through the gateway and directly), steadier than throughput on a shared machine.
Default 3 s per target, 10 s with --full; ``--size gateway=N`` for N seconds.

    .venv/bin/python -m benchmarks --only gateway [--size gateway=10]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp
import httpx

from benchmarks._suite import Suite, running_suite
from benchmarks.common import Result, children_peak_rss_mib

ROOT = Path(__file__).resolve().parents[1]
NAME = "gateway"
ORDER = 40
CONNECTIONS = 64


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(value: str) -> float:
    number = float(re.sub(r"[a-z]+$", "", value))
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[re.sub(r"^[\d.]+", "", value)]


def run_wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> tuple[float, str, str]:
    header_args = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    out = subprocess.run(
        ["wrk", "-t4", f"-c{connections}", f"-d{seconds}s", "--latency", *header_args, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failed:
        raise RuntimeError(f"{failed.group(1)} answers were not 2xx: the figure would be meaningless")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The latency distribution's own lines ("    99%   25.10ms"), not a thread-stats column that ends in %.
    p50 = re.search(r"^\s+50%\s+(\S+)$", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)$", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    return rps, p50, p99


async def python_load(url: str, seconds: int, connections: int, headers: dict[str, str]) -> tuple[float, str, str]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()

    def ms(q: float) -> str:
        return f"{latencies[int(q * (len(latencies) - 1))] * 1000:.2f}ms"

    return len(latencies) / seconds, ms(0.5), ms(0.99)


def reads(suite: Suite) -> dict[str, tuple[str, str, str, bool]]:
    """name -> (direct URL, through the gateway, label, authenticated)."""
    roster, pay = suite.direct["roster"], suite.direct["compensation"]
    worker, slips = f"workers/{suite.worker_id}", f"payroll-runs/{suite.run_id}/payslips"
    return {
        "enums": (
            f"{roster}/v1/meta/enums",
            f"{suite.gateway}/api/v1/roster/meta/enums",
            "GET roster /meta/enums",
            False,
        ),
        "worker": (
            f"{roster}/v1/{worker}",
            f"{suite.gateway}/api/v1/roster/{worker}",
            "GET roster /workers/{id}",
            True,
        ),
        "payslip": (
            f"{pay}/v1/{slips}",
            f"{suite.gateway}/api/v1/compensation/{slips}",
            "GET compensation /payroll-runs/{id}/payslips (one payslip)",
            True,
        ),
    }


def load(url: str, seconds: int, headers: dict[str, str], tool: str) -> tuple[float, str, str]:
    if tool == "wrk":
        return run_wrk(url, seconds, CONNECTIONS, headers)
    return asyncio.run(python_load(url, seconds, CONNECTIONS, headers))


def run(size: int | None, full: bool) -> list[Result]:
    seconds = size or (10 if full else 3)
    tool = "wrk" if shutil.which("wrk") else "aiohttp loop"
    results = []
    with running_suite() as suite:
        for name, (direct_url, gateway_url, label, authenticated) in reads(suite).items():
            headers = suite.headers if authenticated else {}
            bodies = [httpx.get(u, headers=headers).json() for u in (direct_url, gateway_url)]  # warm; compared
            service = "compensation" if name == "payslip" else "roster"
            pids = (suite.pids.get("gateway", 0), suite.pids.get(service, 0))
            before = [cpu_seconds(pid) for pid in pids]
            (direct, _, direct_p99) = load(direct_url, seconds, headers, tool)
            between = [cpu_seconds(pid) for pid in pids]
            (through, p50, p99) = load(gateway_url, seconds, headers, tool)
            after = [cpu_seconds(pid) for pid in pids]
            cpu = (  # µs of CPU per request: gateway, service through it, service directly
                (after[0] - between[0]) / max(1.0, through * seconds) * 1e6,
                (after[1] - between[1]) / max(1.0, through * seconds) * 1e6,
                (between[1] - before[1]) / max(1.0, direct * seconds) * 1e6,
            )
            print(
                f"{name:8s} direct {direct:7.0f}/s p99 {direct_p99}; gateway {through:7.0f}/s p50 {p50} p99 {p99}; "
                f"CPU per request: gateway {cpu[0]:.0f} µs, {service} {cpu[1]:.0f} µs (directly {cpu[2]:.0f} µs)"
            )
            added = _ms(p99) - _ms(direct_p99)
            nonempty = bool(bodies[0]) and (not isinstance(bodies[0], list) or len(bodies[0]) == 1)
            results.append(
                Result(
                    path=f"gateway: {label}, {CONNECTIONS} connections",
                    size=f"{seconds} s per target, {tool}" + (", signed-in account" if authenticated else ""),
                    figure=through,
                    unit="requests/s",
                    floor_label="the same request at the service directly",
                    floor=direct,
                    higher_is_better=True,
                    target="≥ 0.55 of direct, p99 added ≤ 5 ms",
                    met=through >= 0.55 * direct and added <= 5,
                    checks=["every answer 2xx", "gateway's body = the service's body", "the seeded row answered"],
                    checks_passed=bodies[0] == bodies[1] and nonempty,
                    peak_rss_mib=children_peak_rss_mib(),
                    notes=f"gateway p50 {p50}, p99 {p99}; direct p99 {direct_p99}; p99 added {added:.1f} ms; "
                    f"{through / direct:.2f} of direct throughput; CPU per request: gateway {cpu[0]:.0f} µs, "
                    f"{service} {cpu[1]:.0f} µs through it, {cpu[2]:.0f} µs directly",
                )
            )
    return results
