"""Benchmark: a small JSON read from the roster service, directly and through the gateway.

Starts its own PostgreSQL (in a temporary folder), migrates, runs roster and gateway as real processes
(one uvicorn process each, as `make up` does), then loads loopback with wrk (64 connections, 4 threads,
10 s per target) and prints requests/s and latency. Without wrk it uses a bounded aiohttp load loop.

    .venv/bin/python benchmarks/gateway_proxy.py [--seconds 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local.postgres import free_port, scratch_database  # noqa: E402


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    processes: list[subprocess.Popen[bytes]] = []
    with scratch_database(["roster", "gateway"]) as (url, scratch):
        try:
            roster_port, gateway_port = free_port(), free_port()
            env = dict(os.environ) | {
                "SHEGONG_ROSTER_DATABASE_URL": url,
                "SHEGONG_ROSTER_PORT": str(roster_port),
                "SHEGONG_GATEWAY_DATABASE_URL": url,
                "SHEGONG_GATEWAY_PORT": str(gateway_port),
                "SHEGONG_GATEWAY_ROSTER_URL": f"http://127.0.0.1:{roster_port}",
                "SHEGONG_GATEWAY_SIGNING_KEYS_DIR": str(scratch / "keys"),
                # The load is anonymous and from one address: lift the limit, or most answers are 429s.
                "SHEGONG_GATEWAY_RATE_LIMIT_ANONYMOUS": "100000000",
            }
            for service in ("roster", "gateway"):
                log = (scratch / f"{service}.log").open("wb")
                command = [sys.executable, "-m", "shared.serve", service]
                processes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log))
            wait_ready(f"http://127.0.0.1:{roster_port}/readyz")
            wait_ready(f"http://127.0.0.1:{gateway_port}/readyz")
            targets = {
                "roster directly": f"http://127.0.0.1:{roster_port}/v1/meta/enums",
                "through the gateway": f"http://127.0.0.1:{gateway_port}/api/v1/roster/meta/enums",
            }
            tool = "wrk" if shutil.which("wrk") else "aiohttp loop"
            print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
            print(f"load: {tool}, {args.connections} connections, {args.seconds} s per target, GET /meta/enums")
            for name, target in targets.items():
                httpx.get(target)  # warm
                if tool == "wrk":
                    rps, p50, p99 = run_wrk(target, args.seconds, args.connections)
                else:
                    rps, p50, p99 = asyncio.run(python_load(target, args.seconds, args.connections))
                print(f"{name:22s} {rps:9.0f} requests/s   p50 {p50:>9s}   p99 {p99:>9s}")
        finally:
            for proc in processes:
                proc.send_signal(signal.SIGTERM)
            for proc in processes:
                proc.wait(timeout=15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
