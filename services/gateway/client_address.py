"""The address of the client behind a request, trusting ``X-Forwarded-For`` only from known proxies.

The peer of the TCP connection is the client unless it is one of ``SHEGONG_GATEWAY_TRUSTED_PROXIES``
(CIDRs; none by default). From a trusted peer, ``X-Forwarded-For`` is read right to left, skipping
addresses that are themselves trusted proxies: the first one that is not is the client (each proxy
appends the address it saw, so only the entries our own proxies added can be believed; what is left
of them the client wrote itself). Anyone else's ``X-Forwarded-For`` is ignored: a caller cannot pick
the address its failed sign-ins and rate limits are counted against.

uvicorn must not rewrite the peer from these headers itself (``proxy_headers=False`` in
``shared.serve``): its default trusts them from 127.0.0.1, i.e. from anyone on the host.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.requests import HTTPConnection

Network = IPv4Network | IPv6Network


class ClientAddresses:
    """Resolves the client address of a request; one per gateway app (``app.state.client_addresses``)."""

    def __init__(self, trusted_proxies: Iterable[Network | str]) -> None:
        self.trusted = tuple(
            n if isinstance(n, IPv4Network | IPv6Network) else ip_network(n, strict=False) for n in trusted_proxies
        )

    def _is_trusted(self, address: str) -> bool:
        try:
            parsed: IPv4Address | IPv6Address = ip_address(address)
        except ValueError:
            return False
        if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        return any(parsed in network for network in self.trusted)

    def peer_is_trusted(self, request: HTTPConnection) -> bool:
        # No trusted proxies (the default): no address to parse, on every proxied request.
        return bool(self.trusted) and request.client is not None and self._is_trusted(request.client.host)

    def of(self, request: HTTPConnection) -> str | None:
        """The client's address: the peer, or from a trusted peer the last untrusted forwarded hop."""
        peer = request.client.host if request.client else None
        if peer is None or not self.trusted or not self._is_trusted(peer):
            return peer
        hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",") if h.strip()]
        for hop in reversed(hops):
            try:
                ip_address(hop)
            except ValueError:
                return peer  # a garbled chain names no one: count the proxy itself
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer


def client_address(request: HTTPConnection) -> str | None:
    """The client address of a gateway request (see the module docstring)."""
    resolver: ClientAddresses | None = getattr(request.app.state, "client_addresses", None)
    if resolver is None:
        return request.client.host if request.client else None
    return resolver.of(request)
