"""Run one service under uvicorn: ``python -m shared.serve roster``.

Settings come from the service's own environment prefix (``SHEGONG_ROSTER_PORT`` …); logs are JSON.
"""

from __future__ import annotations

import gc
import importlib
import sys

import uvicorn

from shared.logs import logging_config
from shared.migrations import SERVICE_NAMES, settings_for


def freeze_startup_heap(service: str) -> None:
    """Import the service's code, then move every object alive so far (modules, classes, schemas) out of
    the cyclic garbage collector's sight: its full collections otherwise walk these ~170,000 long-lived
    objects again and again while a request allocates (a streamed export of 5,000 workers spent about a
    third of its time there, issue #16). Reference counting still frees what it always did."""
    importlib.import_module(f"services.{service}.app")
    gc.collect()
    gc.freeze()


# How long an idle keep-alive connection stays open. Longer than the gateway keeps an idle upstream
# connection in its pool (services.gateway.proxy.UPSTREAM_IDLE_SECONDS): with uvicorn's default of 5 s the
# service closed connections the gateway was about to reuse, and a request sent on one got "server
# disconnected", answered 503 (1 of about 50,000 requests of a 10-minute mixed load). 75 s also outlasts the
# idle timeouts of the usual load balancers in front of the gateway (60 s).
KEEP_ALIVE_SECONDS = 75


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in SERVICE_NAMES:
        print(f"usage: python -m shared.serve ({'|'.join(SERVICE_NAMES)})", file=sys.stderr)
        return 2
    service = argv[0]
    settings = settings_for(service)
    freeze_startup_heap(service)
    uvicorn.run(
        f"services.{service}.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=logging_config(service, settings.log_level),
        access_log=False,
        loop="uvloop",
        http="httptools",
        server_header=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # uvicorn's default rewrites the client address from X-Forwarded-For for connections from
        # 127.0.0.1, i.e. for anyone on the host; the gateway resolves it itself, from its trusted
        # proxies only (services.gateway.client_address).
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
