"""The four services as real processes on one throw-away PostgreSQL, for the gateway benchmarks: bootstrap
(the ``admin`` account and the services' API clients, as ``make up`` does), a real signed-in account (the
gateway refuses tokens of accounts it does not know), and one worker with one payslip seeded through the API.

Loopback only: every server binds 127.0.0.1 on a free port (never 8000–8003).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from stdnum.cn import ric

from deploy.local.postgres import free_port, scratch_database
from services.gateway.keys import new_key
from shared.migrations import SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "bench admin password 0001"
FAST_HASHING = {"password_hash_time_cost": "1", "password_hash_memory_kib": "8"}
CITY, COUNTY, TOWNSHIP, COMMUNITY = "330500", "330502", "330502001000", "330502001001"
MONTH = "2026-01"


@dataclass
class Suite:
    gateway: str
    direct: dict[str, str]  # service -> its own base URL
    headers: dict[str, str] = field(default_factory=dict)  # the admin's bearer
    worker_id: str = ""
    run_id: str = ""
    logs: dict[str, Path] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)  # service -> its process (CPU time per request)


def wait_ready(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready in {seconds:.0f} s")


def eventually(check: Callable[[], Any], seconds: float = 60) -> Any:
    """Poll until ``check`` returns something truthy (the feeds are asynchronous by design)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"not reached in {seconds:.0f} s: {value!r}")
        time.sleep(0.3)


def _ok(response: httpx.Response, *codes: int) -> dict[str, Any]:
    if response.status_code not in (codes or (200, 201)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def seed(suite: Suite) -> None:
    """Regions, quota, one worker with a post, a pay scale, one calculated payroll run (one payslip)."""
    h = suite.headers
    roster, pay = f"{suite.gateway}/api/v1/roster", f"{suite.gateway}/api/v1/compensation"
    _ok(httpx.post(f"{roster}/regions", headers=h, json={"code": "330000", "name": "浙江省"}), 201, 409)
    for code, parent, extra in (
        (CITY, "330000", {}),
        (COUNTY, CITY, {}),
        (TOWNSHIP, COUNTY, {}),
        (COMMUNITY, TOWNSHIP, {"kind": "urban", "households": 1600}),
    ):
        _ok(
            httpx.post(
                f"{roster}/regions", headers=h, json={"code": code, "name": code, "parent_code": parent, **extra}
            )
        )
    for year in (2025, 2026):
        _ok(httpx.put(f"{roster}/quotas/{COUNTY}/{year}", headers=h, json={"headcount": 10}))
    body = COUNTY + "19900909" + "011"
    worker = _ok(
        httpx.post(
            f"{roster}/workers",
            headers=h,
            json={
                "id_number": body + ric.calc_check_digit(body + "0"),
                "name": "基准一号",
                "community_code": COMMUNITY,
                "hire_date": "2025-01-06",
                "certificate_level": "assistant",
                "certificate_date": "2025-05-01",
            },
        )
    )
    suite.worker_id = worker["id"]
    _ok(
        httpx.post(
            f"{roster}/workers/{suite.worker_id}/posts",
            headers=h,
            json={"post": "chief", "grade": 10, "start_date": "2025-01-06"},
        )
    )
    _ok(httpx.post(f"{roster}/workers/{suite.worker_id}/contracts", headers=h, json={"start_date": "2025-01-06"}))
    cells = [
        {"post": p, "grade": g, "annual_amount": str(base + 3000 * g)}
        for p, base in (("chief", 100000), ("deputy", 90000), ("staff", 78000))
        for g in range(1, 19)
    ]
    _ok(httpx.put(f"{pay}/pay-scales/{COUNTY}/2026", headers=h, json={"cells": cells}))
    suite.run_id = _ok(httpx.post(f"{pay}/payroll-runs", headers=h, json={"region_code": TOWNSHIP, "month": MONTH}))[
        "id"
    ]

    def calculated() -> bool:
        done = httpx.post(f"{pay}/payroll-runs/{suite.run_id}/calculate", headers=h, timeout=60).json()
        return bool(done.get("workers") == 1)  # once the roster's feed has brought the worker

    eventually(calculated)


@contextmanager
def running_suite() -> Iterator[Suite]:
    """The four services as real processes, the admin signed in, a worker and a payslip seeded."""
    processes: list[subprocess.Popen[bytes]] = []
    with scratch_database(list(SERVICE_NAMES)) as (url, scratch):
        ports = {name: free_port() for name in SERVICE_NAMES}
        env = dict(os.environ) | {
            "SHEGONG_GATEWAY_DATABASE_URL": url,
            "SHEGONG_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            **{f"SHEGONG_GATEWAY_{k.upper()}": v for k, v in FAST_HASHING.items()},
        }
        subprocess.run(
            [sys.executable, "-m", "services.gateway.bootstrap", str(scratch / "bootstrap")],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        for name in SERVICE_NAMES:
            prefix = f"SHEGONG_{name.upper()}_"
            env |= {prefix + "DATABASE_URL": url, prefix + "PORT": str(ports[name]), prefix + "HOST": "127.0.0.1"}
            if name != "gateway":
                env[f"SHEGONG_GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
                env[prefix + "JWKS_URL"] = f"{gateway}/.well-known/jwks.json"
                env[prefix + "TOKEN_URL"] = f"{gateway}/api/v1/auth/token"
                env[prefix + "CLIENT_ID"] = name
                env[prefix + "CLIENT_SECRET"] = (
                    (scratch / "bootstrap" / "clients" / f"{name}.secret").read_text().strip()
                )
                env[prefix + "FEED_POLL_SECONDS"] = "0.2"
                for other in ("roster", "evaluation"):
                    env[prefix + f"{other.upper()}_URL"] = f"http://127.0.0.1:{ports[other]}"
        new_key(scratch / "keys")
        env["SHEGONG_GATEWAY_SIGNING_KEYS_DIR"] = str(scratch / "keys")
        # One user and one address make all the load: lift the limits, or most answers are 429s.
        env["SHEGONG_GATEWAY_RATE_LIMIT_USER"] = "100000000"
        env["SHEGONG_GATEWAY_RATE_LIMIT_ANONYMOUS"] = "100000000"
        suite = Suite(gateway, {n: f"http://127.0.0.1:{p}" for n, p in ports.items() if n != "gateway"})
        try:
            for name in SERVICE_NAMES:
                suite.logs[name] = scratch / f"{name}.log"
                log = suite.logs[name].open("wb")
                command = [sys.executable, "-m", "shared.serve", name]
                processes.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log))
                suite.pids[name] = processes[-1].pid
            try:
                wait_ready(f"{gateway}/readyz")
                for base in suite.direct.values():
                    wait_ready(f"{base}/readyz")
            except RuntimeError:
                for name, path in suite.logs.items():
                    print(name, path.read_text()[-1500:])
                raise
            token = _ok(
                httpx.post(
                    f"{gateway}/api/v1/auth/token",
                    data={"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD},
                )
            )["access_token"]
            suite.headers = {"Authorization": f"Bearer {token}"}
            seed(suite)
            yield suite
        finally:
            for proc in processes:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in processes:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
