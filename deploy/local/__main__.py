"""``python -m deploy.local up|down|status``: the embedded default behind ``make up`` / ``make down``.

``up`` starts a PostgreSQL under ``.data/pg`` (unless every service has its own
``SHEGONG_<SERVICE>_DATABASE_URL``), applies every service's migrations, starts the four services under
supervisord (a real process manager: restarts, logs in ``.data/log/``) and waits until the gateway
reports every service ready. Running ``up`` twice is safe; ``down`` stops what ``up`` started.

``SHEGONG_REPLICAS=2`` starts two replicas of every service (ports in :mod:`deploy.local.ports`); the
gateway balances between the service replicas (its URL settings list them), the second gateway shares
the first's rate limits and sessions through PostgreSQL. ``up`` refuses at once, saying what to do, when
the ports are taken or this folder's suite already runs on other ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from deploy.local import ports as port_plan
from deploy.local.postgres import LocalPostgres
from deploy.local.processes import process_alive
from shared.migrations import SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("SHEGONG_DATA_DIR", ROOT / ".data"))
LOGS = DATA / "log"
PIDFILE = DATA / "supervisord.pid"
CONF = DATA / "supervisord.conf"
SOCKET = DATA / "supervisor.sock"
LAYOUT = DATA / "ports.json"
PG_PORT = int(os.environ.get("SHEGONG_PG_PORT", "55432"))
DATABASE = "shegong"
DEFAULT_PORTS = {"gateway": 8000, "roster": 8001, "compensation": 8002, "evaluation": 8003}


def _env_name(service: str, key: str) -> str:
    return f"SHEGONG_{service.upper()}_{key}"


def port_of(service: str) -> int:
    return int(os.environ.get(_env_name(service, "PORT"), DEFAULT_PORTS[service]))


def replicas() -> int:
    value = os.environ.get("SHEGONG_REPLICAS", "1")
    if not value.isdigit() or not 1 <= int(value) <= 9:
        raise SystemExit(f"SHEGONG_REPLICAS must be a number from 1 to 9, not {value!r}")
    return int(value)


def planned_layout() -> dict[str, list[int]]:
    """Service → the ports of its replicas, as this ``up`` would start them."""
    return port_plan.layout({service: port_of(service) for service in SERVICE_NAMES}, replicas())


def replica_urls(service: str) -> str:
    return ",".join(f"http://127.0.0.1:{port}" for port in planned_layout()[service])


def postgres() -> LocalPostgres:
    return LocalPostgres(DATA / "pg", PG_PORT)


def needs_embedded_postgres() -> bool:
    return any(_env_name(s, "DATABASE_URL") not in os.environ for s in SERVICE_NAMES)


def service_environment(pg: LocalPostgres | None) -> dict[str, str]:
    """The environment of every service process: database URLs, ports, routes, keys, service clients."""
    env = dict(os.environ)
    gateway = f"http://127.0.0.1:{port_of('gateway')}"
    for service in SERVICE_NAMES:
        if pg is not None:
            env.setdefault(_env_name(service, "DATABASE_URL"), pg.url(DATABASE))
        env.setdefault(_env_name(service, "PORT"), str(port_of(service)))
    env.setdefault(_env_name("gateway", "SIGNING_KEYS_DIR"), str(DATA / "keys"))
    for service in ("roster", "compensation", "evaluation"):
        env.setdefault(_env_name("gateway", f"{service.upper()}_URL"), replica_urls(service))
        env.setdefault(_env_name(service, "JWKS_URL"), f"{gateway}/.well-known/jwks.json")
        for source in ("roster", "evaluation"):  # the feeds each service reads
            if source != service:
                env.setdefault(_env_name(service, f"{source.upper()}_URL"), f"http://127.0.0.1:{port_of(source)}")
        env.setdefault(_env_name(service, "TOKEN_URL"), f"{gateway}/api/v1/auth/token")
        secret = DATA / "clients" / f"{service}.secret"
        if secret.exists():
            env.setdefault(_env_name(service, "CLIENT_ID"), service)
            env.setdefault(_env_name(service, "CLIENT_SECRET"), secret.read_text().strip())
    return env


def supervisord_conf() -> str:
    python = sys.executable
    programs = "\n".join(
        f"""
[program:{service}{"" if replica == 1 else f"-{replica}"}]
command={python} -m shared.serve {service}
environment={_env_name(service, "PORT")}="{port}"
directory={ROOT}
autostart=true
autorestart=true
startsecs=2
startretries=5
stopsignal=TERM
stopwaitsecs=15
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile={LOGS / (f"{service}.log" if replica == 1 else f"{service}-{replica}.log")}
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=3
"""
        for service in ("roster", "compensation", "evaluation", "gateway")
        for replica, port in enumerate(planned_layout()[service], start=1)
    )
    return f"""; written by `python -m deploy.local up`; edits are overwritten
[supervisord]
pidfile={PIDFILE}
logfile={LOGS / "supervisord.log"}
directory={ROOT}
nodaemon=false

[unix_http_server]
file={SOCKET}
chmod=0700

[supervisorctl]
serverurl=unix://{SOCKET}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
{programs}"""


def supervisord_pid() -> int | None:
    try:
        pid = int(PIDFILE.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def supervisorctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(CONF), *args],
        capture_output=True,
        text=True,
    )


def up_timeout() -> float:
    """How long ``up`` waits for the suite: 60 s per replica (each replica is four processes starting on a
    machine that may be busy), or ``SHEGONG_UP_TIMEOUT_SECONDS``."""
    return float(os.environ.get("SHEGONG_UP_TIMEOUT_SECONDS", 60 * replicas()))


def wait_healthy(timeout: float = 60.0) -> dict[str, object] | None:
    url = f"http://127.0.0.1:{port_of('gateway')}/healthz"
    deadline = time.monotonic() + timeout
    last: dict[str, object] | None = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=3.0)
            last = response.json()
            if response.status_code == 200:
                return last
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    print(f"not healthy after {timeout:.0f} s: {last}", file=sys.stderr)
    return None


def in_the_way() -> str | None:
    """Why ``up`` cannot start the suite as asked (and what to do), or None."""
    planned = planned_layout()
    if supervisord_pid() is not None:
        running = port_plan.recorded(LAYOUT)
        if running is not None and running != planned:
            where = ", ".join(f"{s} {'/'.join(map(str, p))}" for s, p in running.items())
            return (
                f"the suite of {DATA} already runs, on other ports ({where}): use those (the same "
                "SHEGONG_*_PORT and SHEGONG_REPLICAS settings), or `make down` first, or give this one "
                "another SHEGONG_DATA_DIR"
            )
        return None  # ours, on these ports: `up` again is safe
    busy = port_plan.taken(planned)
    if busy:
        where = ", ".join(f"{port} ({service})" for service, port in busy)
        return (
            f"ports already in use on 127.0.0.1: {where}. Another suite (another checkout, a test run) or "
            "another program holds them: stop it (`make down` where it was started), or choose free ports "
            "with SHEGONG_GATEWAY_PORT, SHEGONG_ROSTER_PORT, SHEGONG_COMPENSATION_PORT, SHEGONG_EVALUATION_PORT"
        )
    return None


def up() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    problem = in_the_way()
    if problem is not None:
        print(f"cannot start: {problem}", file=sys.stderr)
        return 1
    pg: LocalPostgres | None = None
    if needs_embedded_postgres():
        pg = postgres()
        pg.start()
        pg.create_database(DATABASE)
        print(f"PostgreSQL: {pg.url(DATABASE)} (data in {pg.data_dir})")
    env = service_environment(pg)
    subprocess.run([sys.executable, "-m", "shared.migrations", "upgrade", "all"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [sys.executable, "-m", "services.gateway.keys", "ensure", str(DATA / "keys")], env=env, check=True, cwd=ROOT
    )
    subprocess.run([sys.executable, "-m", "services.gateway.bootstrap", str(DATA)], env=env, check=True, cwd=ROOT)
    env = service_environment(pg)  # again: now with the service clients' secrets
    CONF.write_text(supervisord_conf())
    port_plan.record(LAYOUT, planned_layout())
    if supervisord_pid() is None:
        subprocess.run([sys.executable, "-m", "supervisor.supervisord", "-c", str(CONF)], env=env, check=True, cwd=ROOT)
    else:
        supervisorctl("start", "all")
    health = wait_healthy(up_timeout())
    if health is None:
        print(f"see the logs in {LOGS}", file=sys.stderr)
        return 1
    gateway = f"http://127.0.0.1:{port_of('gateway')}"
    print(f"shegong is up: {gateway}/healthz says every service is ready")
    if replicas() > 1:
        layout = ", ".join(f"{s} {'/'.join(map(str, p))}" for s, p in planned_layout().items())
        print(f"{replicas()} replicas of each service: {layout}")
    print(f"console: {gateway}/   API docs: {gateway}/docs (and /redoc)   OpenAPI: {gateway}/openapi.json")
    print(f"logs: {LOGS}   stop: make down")
    if (DATA / "admin-password").exists():
        print(f"sign in as admin with the password in {DATA / 'admin-password'}")
    return 0


def down() -> int:
    pid = supervisord_pid()
    if pid is not None:
        result = supervisorctl("shutdown")
        if result.returncode != 0:
            os.kill(pid, signal.SIGTERM)
        # Wait for the process itself: supervisord removes its pidfile before it has finished exiting.
        deadline = time.monotonic() + 30
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        print("services stopped")
    if (DATA / "pg").exists() or needs_embedded_postgres():
        pg = postgres()
        if pg.running():
            pg.stop()
            print("PostgreSQL stopped")
    return 0


def status() -> int:
    if supervisord_pid() is None:
        print("not running")
        return 1
    print(supervisorctl("status").stdout, end="")
    return 0


def main(argv: list[str]) -> int:
    commands = {"up": up, "down": down, "status": status}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m deploy.local (up|down|status)", file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
