"""A local PostgreSQL cluster in a folder: the machine's own binaries, else the ones ``pgserver`` ships.

Used by ``make up`` (``.data/pg``) and by the test suite (a throw-away cluster per run). PostgreSQL
refuses to run as root, so as root every server command runs as the ``postgres`` system user (created
as ``shegong-pg`` when the machine has none), and the data directory is owned by that user.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg


def find_binaries() -> Path:
    """The folder holding ``initdb``/``pg_ctl``/``postgres``: the machine's own first, else pgserver's."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        folder = Path(os.path.realpath(on_path)).parent
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise RuntimeError("no PostgreSQL binaries: install PostgreSQL or the pip package pgserver")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _server_user() -> str | None:
    """The system user that runs the server, or ``None`` to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "shegong-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "shegong-pg"], check=True)
    return "shegong-pg"


def _reachable_by_others(path: Path) -> bool:
    """Every parent folder can be traversed by another user (needed when the server runs as one)."""
    resolved = path.resolve()
    return all(os.stat(p).st_mode & 0o001 for p in (resolved, *resolved.parents) if p.exists())


@dataclass
class LocalPostgres:
    """One cluster: ``data_dir`` on ``127.0.0.1:port``, trust authentication on loopback only."""

    data_dir: Path
    port: int
    options: dict[str, str] = field(default_factory=dict)
    binaries: Path = field(default_factory=find_binaries)
    user: str | None = field(default_factory=_server_user)

    def __post_init__(self) -> None:
        if self.user is not None and not _reachable_by_others(self.data_dir.parent):
            # A clone under /root cannot be read by the postgres user: keep the cluster in /tmp instead.
            digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:10]
            self.data_dir = Path(tempfile.gettempdir()) / f"shegong-pg-{digest}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binaries / args[0]), *args[1:]],
            check=check,
            user=self.user,
            capture_output=True,
            text=True,
            cwd="/",
        )

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialised():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def start(self) -> None:
        """Initialise if needed and start; a cluster already running is left as it is."""
        self.init()
        if self.running():
            return
        opts = {"listen_addresses": "127.0.0.1", "port": str(self.port), "unix_socket_directories": str(self.data_dir)}
        opts |= self.options
        flags = " ".join(f"-c {k}={v}" for k, v in opts.items())
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            flags,
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()}\n{log}")

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> None:
        """Create ``name`` unless it exists."""

        async def create() -> None:
            conn = await asyncpg.connect(self.url(driver="postgresql"))
            try:
                exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                if not exists:
                    await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())

    def drop_database(self, name: str) -> None:
        async def drop() -> None:
            conn = await asyncpg.connect(self.url(driver="postgresql"))
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def scratch_database(services: Sequence[str], options: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """A throw-away cluster with one database migrated for ``services``: (its URL, a scratch folder).

    For benchmarks: everything is stopped and removed afterwards.
    """
    from shared.migrations import upgrade

    scratch = Path(tempfile.mkdtemp(prefix="shegong-bench-"))
    cluster = LocalPostgres(scratch / "pg", free_port(), options=options or {})
    cluster.start()
    try:
        cluster.create_database("bench")
        url = cluster.url("bench")
        for service in services:
            upgrade(service, "head", url)
        yield url, scratch
    finally:
        cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(cluster.data_dir, ignore_errors=True)
