"""Command one: ``python -m deploy.local up`` (what ``make up`` runs) brings the suite up, twice is
safe, and ``down`` ends every process it started. Run on free ports in a data folder of its own."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from deploy.local.ports import port_taken
from deploy.local.postgres import free_port
from deploy.local.processes import process_alive
from shared.migrations import SERVICE_NAMES

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def runner(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.local", command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=400
    )


@pytest.mark.parametrize("replicas", [1, 2])
def test_up_twice_then_down_leaves_nothing_running(tmp_path: Path, replicas: int) -> None:
    """With ``SHEGONG_REPLICAS=2`` (issue #15) every service runs twice, the gateway balancing between the
    service replicas; the second replica of each listens 10 ports above the first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEGONG_")}
    env["SHEGONG_REPLICAS"] = str(replicas)
    env["SHEGONG_UP_TIMEOUT_SECONDS"] = "300"  # eight processes starting on a 2-core machine others share
    env["SHEGONG_DATA_DIR"] = str(tmp_path / "data")
    env["SHEGONG_PG_PORT"] = str(free_port())
    ports = {name: free_port_with_replicas(replicas) for name in SERVICE_NAMES}
    for name, port in ports.items():
        env[f"SHEGONG_{name.upper()}_PORT"] = str(port)
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    try:
        first = runner("up", env)
        assert first.returncode == 0, first.stderr[-3000:]
        assert f"{gateway}/docs" in first.stdout
        health = httpx.get(f"{gateway}/healthz").json()
        assert health["status"] == "ok"
        assert set(health["services"]) == set(SERVICE_NAMES)
        supervisord = int((tmp_path / "data" / "supervisord.pid").read_text())
        children = psutil.Process(supervisord).children(recursive=True)
        assert len(children) == 4 * replicas
        for name, port in ports.items():  # every replica answers on its own port
            for k in range(replicas):
                probe = "/livez" if name == "gateway" else "/readyz"
                assert httpx.get(f"http://127.0.0.1:{port + 10 * k}{probe}").status_code == 200

        again = runner("up", env)  # safe to repeat: same processes, still healthy
        assert again.returncode == 0, again.stderr[-3000:]
        assert int((tmp_path / "data" / "supervisord.pid").read_text()) == supervisord
        assert httpx.get(f"{gateway}/healthz").status_code == 200

        # Up again from the same folder on other ports: said at once, with what to do (not a 60 s wait).
        elsewhere = env | {"SHEGONG_GATEWAY_PORT": str(free_port())}
        started = time.monotonic()
        refused = runner("up", elsewhere)
        assert refused.returncode == 1
        assert time.monotonic() - started < 60  # the old way waited 60 s after starting everything
        assert "already runs, on other ports" in refused.stderr
        assert f"gateway {ports['gateway']}" in refused.stderr
        assert "make down" in refused.stderr
    finally:
        down = runner("down", env)
    assert down.returncode == 0, down.stderr
    assert not process_alive(supervisord)
    assert not any(process_alive(child.pid) for child in children)
    assert "PostgreSQL stopped" in down.stdout
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{gateway}/healthz")


def free_port_with_replicas(replicas: int) -> int:
    """A free port whose replicas' ports (+10, +20 …) are free too."""
    while True:
        port = free_port()
        if all(not port_taken(port + 10 * k) for k in range(1, replicas)) and port + 10 * replicas < 65536:
            return port


def test_up_says_at_once_when_the_ports_are_taken(tmp_path: Path) -> None:
    """Issue #15: a port in use (another suite, another program) is reported before anything starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEGONG_")}
    env["SHEGONG_DATA_DIR"] = str(tmp_path / "data")
    env["SHEGONG_PG_PORT"] = str(free_port())
    for name in SERVICE_NAMES:
        env[f"SHEGONG_{name.upper()}_PORT"] = str(free_port())
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env["SHEGONG_ROSTER_PORT"] = str(holder.getsockname()[1])
        started = time.monotonic()
        refused = runner("up", env)
    assert refused.returncode == 1
    assert time.monotonic() - started < 60  # the old way waited 60 s after starting everything
    assert f"ports already in use on 127.0.0.1: {env['SHEGONG_ROSTER_PORT']} (roster)" in refused.stderr
    assert "SHEGONG_ROSTER_PORT" in refused.stderr
    assert not (tmp_path / "data" / "pg").exists()  # nothing was started
