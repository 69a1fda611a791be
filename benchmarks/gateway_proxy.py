"""Benchmark: a small JSON read from the roster service through the gateway, beside the same read directly.

Starts its own PostgreSQL (in a temporary folder), migrates, runs roster and gateway as real processes
(one uvicorn process each, as `make up` does), then loads loopback with wrk (64 connections, 4 threads,
10 s per target) and prints requests/s and latency. Without wrk it uses a bounded aiohttp load loop.

The direct read is the floor (same request, same process, same run); the ratio is direct ÷ gateway
throughput (target ≥ 0.55 of direct, i.e. ratio ≤ 1.82) and the p99 the gateway adds (≤ 5 ms).
Default 3 s per target, 10 s with --full; ``--size gateway=N`` for N seconds.

    .venv/bin/python -m benchmarks --only gateway [--size gateway=10]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx

from benchmarks.common import Result, children_peak_rss_mib
from deploy.local.postgres import free_port, scratch_database

ROOT = Path(__file__).resolve().parents[1]
NAME = "gateway"
ORDER = 40
CONNECTIONS = 64


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


def _ms(value: str) -> float:
    number = float(re.sub(r"[a-z]+$", "", value))
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[re.sub(r"^[\d.]+", "", value)]


def run_wrk(url: str, seconds: int, connections: int) -> tuple[float, str, str]:
    out = subprocess.run(
        ["wrk", "-t4", f"-c{connections}", f"-d{seconds}s", "--latency", url],
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


async def python_load(url: str, seconds: int, connections: int) -> tuple[float, str, str]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def worker() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()

    def ms(q: float) -> str:
        return f"{latencies[int(q * (len(latencies) - 1))] * 1000:.2f}ms"

    return len(latencies) / seconds, ms(0.5), ms(0.99)


def run(size: int | None, full: bool) -> list[Result]:
    seconds = size or (10 if full else 3)
    processes: list[subprocess.Popen[bytes]] = []
    with scratch_database(["roster", "gateway"]) as (url, scratch):
        try:
            roster_port, gateway_port = free_port(), free_port()
            env = dict(os.environ) | {
                "SHEGONG_ROSTER_DATABASE_URL": url,
                "SHEGONG_ROSTER_PORT": str(roster_port),
                "SHEGONG_ROSTER_HOST": "127.0.0.1",
                "SHEGONG_GATEWAY_DATABASE_URL": url,
                "SHEGONG_GATEWAY_PORT": str(gateway_port),
                "SHEGONG_GATEWAY_HOST": "127.0.0.1",
                "SHEGONG_GATEWAY_ROSTER_URL": f"http://127.0.0.1:{roster_port}",
                "SHEGONG_GATEWAY_SIGNING_KEYS_DIR": str(scratch / "keys"),
                # The load is anonymous and from one address: lift the limit, or most answers are 429s.
                "SHEGONG_GATEWAY_RATE_LIMIT_ANONYMOUS": "100000000",
            }
            for service in ("roster", "gateway"):
                log = (scratch / f"{service}.log").open("wb")
                command = [sys.executable, "-m", "shared.serve", service]
                processes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log))
            try:
                wait_ready(f"http://127.0.0.1:{roster_port}/readyz")
                wait_ready(f"http://127.0.0.1:{gateway_port}/readyz")
            except RuntimeError:
                for service in ("roster", "gateway"):
                    print(service, (scratch / f"{service}.log").read_text()[-1500:])
                raise
            targets = {
                "direct": f"http://127.0.0.1:{roster_port}/v1/meta/enums",
                "gateway": f"http://127.0.0.1:{gateway_port}/api/v1/roster/meta/enums",
            }
            tool = "wrk" if shutil.which("wrk") else "aiohttp loop"
            figures: dict[str, tuple[float, str, str]] = {}
            bodies = {}
            for name, target in targets.items():
                bodies[name] = httpx.get(target).json()  # warm, and the answer to compare
                if tool == "wrk":
                    figures[name] = run_wrk(target, seconds, CONNECTIONS)
                else:
                    figures[name] = asyncio.run(python_load(target, seconds, CONNECTIONS))
                print(f"{name:8s} {figures[name][0]:9.0f} requests/s   p50 {figures[name][1]}   p99 {figures[name][2]}")
        finally:
            for proc in processes:
                proc.send_signal(signal.SIGTERM)
            for proc in processes:
                proc.wait(timeout=15)
    (direct, _, direct_p99), (through, p50, p99) = figures["direct"], figures["gateway"]
    added = _ms(p99) - _ms(direct_p99)
    return [
        Result(
            path="gateway: JSON read (GET roster /meta/enums), 64 connections",
            size=f"{seconds} s per target, {tool}",
            figure=through,
            unit="requests/s",
            floor_label="the same request at the roster directly",
            floor=direct,
            higher_is_better=True,
            target="≥ 0.55 of direct, p99 added ≤ 5 ms",
            met=through >= 0.55 * direct and added <= 5,
            checks=["every answer 2xx", "gateway's body = the service's body"],
            checks_passed=bodies["direct"] == bodies["gateway"],
            peak_rss_mib=children_peak_rss_mib(),
            notes=f"gateway p50 {p50}, p99 {p99}; direct p99 {direct_p99}; p99 added {added:.1f} ms; "
            f"{through / direct:.2f} of direct throughput",
        )
    ]
