"""Command one: ``python -m deploy.local up`` (what ``make up`` runs) brings the suite up, twice is
safe, and ``down`` ends every process it started. Run on free ports in a data folder of its own."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from deploy.local.postgres import free_port
from deploy.local.processes import process_alive
from shared.migrations import SERVICE_NAMES

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def runner(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.local", command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180
    )


def test_up_twice_then_down_leaves_nothing_running(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEGONG_")}
    env["SHEGONG_DATA_DIR"] = str(tmp_path / "data")
    env["SHEGONG_PG_PORT"] = str(free_port())
    ports = {name: free_port() for name in SERVICE_NAMES}
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
        assert len(children) == 4

        again = runner("up", env)  # safe to repeat: same processes, still healthy
        assert again.returncode == 0, again.stderr[-3000:]
        assert int((tmp_path / "data" / "supervisord.pid").read_text()) == supervisord
        assert httpx.get(f"{gateway}/healthz").status_code == 200
    finally:
        down = runner("down", env)
    assert down.returncode == 0, down.stderr
    assert not process_alive(supervisord)
    assert not any(process_alive(child.pid) for child in children)
    assert "PostgreSQL stopped" in down.stdout
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{gateway}/healthz")
