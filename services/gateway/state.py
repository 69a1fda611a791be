"""The gateway app's state, typed (``shared.state`` plus what the gateway keeps: its settings, signing
keys, password hasher, upstreams and the proxy's connection pool)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from starlette.requests import HTTPConnection

from shared.state import ServiceState, app_state

if TYPE_CHECKING:
    import aiohttp

    from services.gateway.client_address import ClientAddresses
    from services.gateway.console.labels import CodeLabels
    from services.gateway.keys import SigningKeys
    from services.gateway.passwords import SecretHasher
    from services.gateway.rate_limits import RateLimiter
    from services.gateway.settings import Settings
    from services.gateway.upstreams import Balancer
    from services.gateway.webhook_secrets import SecretBox


class GatewayState(ServiceState, Protocol):
    settings: Settings
    signing_keys: SigningKeys
    hasher: SecretHasher
    upstreams: dict[str, str]  # service → its base URL, or its replicas' (comma-separated)
    balancer: Balancer  # which replica is next (services.gateway.upstreams)
    client_addresses: ClientAddresses
    proxy_session: aiohttp.ClientSession
    rate_limiter: RateLimiter  # the leases of this replica (services.gateway.rate_limits)
    code_labels: CodeLabels  # the services' labels of their codes, as the console shows them
    webhook_secrets: SecretBox  # seals subscribers' secrets at rest (services.gateway.webhook_secrets)


def gateway_state(source: HTTPConnection | Any) -> GatewayState:
    return cast("GatewayState", app_state(source))
