"""Where a webhook may connect (WH2), checked when it connects, not only when the URL is stored.

A subscription's host name is not resolved when it is stored (WH2), and a name can point anywhere later (DNS
rebinding: public at subscription time, 127.0.0.1 or 169.254.169.254 at delivery). So the sender's client
resolves each host itself, refuses a connection when any address the name resolves to is loopback, link-local,
unspecified or multicast (unless the deployment allows loopback: development and tests), and connects to the
address it checked, so that no second lookup can differ. A refusal is a failed try with its reason in the
delivery log (WH4 retries it, then parks it).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

from services.gateway.domain.webhooks import RULE_URL, is_local_address

Resolve = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now (an address literal resolves to itself)."""
    found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


class CheckedConnections(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, with every TCP connection's addresses checked first (WH2)."""

    def __init__(self, allow_loopback: bool, resolver: Resolve = resolve) -> None:
        self.allow_loopback = allow_loopback
        self.resolve = resolver
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        local = [a for a in addresses if is_local_address(ipaddress.ip_address(a))]
        if local and not self.allow_loopback:
            raise httpcore.ConnectError(f"{host} resolves to {local[0]}: loopback or link-local refused ({RULE_URL})")
        return await self.inner.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def webhook_client(allow_loopback: bool, resolver: Resolve = resolve) -> httpx.AsyncClient:
    """The sender's HTTP client: its own, no proxy from the environment, no redirects followed (WH2), each
    connection's addresses checked (:class:`CheckedConnections`). TLS still verifies the URL's host name."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx takes no network backend; its pool is made again with one, and httpx's default limits.
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=CheckedConnections(allow_loopback, resolver),
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
