"""Which ports the embedded suite listens on, and whether they are free, so that ``up`` says at once what
is in the way instead of waiting for a health check that cannot pass (issue #15).

Replica *k* (from 1) of a service listens on its port + 10·(k − 1): with ``SHEGONG_REPLICAS=2`` the
defaults are 8000/8010 (gateway), 8001/8011 (roster), 8002/8012 (compensation), 8003/8013 (evaluation).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

REPLICA_PORT_STEP = 10


def replica_port(port: int, replica: int) -> int:
    return port + REPLICA_PORT_STEP * (replica - 1)


def layout(ports: dict[str, int], replicas: int) -> dict[str, list[int]]:
    """Service → the ports of its replicas."""
    return {service: [replica_port(port, k) for k in range(1, replicas + 1)] for service, port in ports.items()}


def port_taken(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (or holds it). Connections of a suite just stopped
    (TIME_WAIT) do not count: the servers bind with SO_REUSEADDR, and so does this check."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def taken(planned: dict[str, list[int]]) -> list[tuple[str, int]]:
    return [(service, port) for service, ports in planned.items() for port in ports if port_taken(port)]


def recorded(path: Path) -> dict[str, list[int]] | None:
    """The layout the running suite of this data folder was started with."""
    try:
        data: dict[str, list[int]] = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data


def record(path: Path, planned: dict[str, list[int]]) -> None:
    path.write_text(json.dumps(planned, sort_keys=True))
