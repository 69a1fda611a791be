"""Settings: the base of every service's pydantic-settings class (each service has its own env prefix).

``SHEGONG_ROSTER_DATABASE_URL`` sets the roster's database, ``SHEGONG_GATEWAY_PORT`` the gateway's port,
and so on. The defaults are the embedded default of ``make up`` (a PostgreSQL under ``.data/`` on
127.0.0.1:55432); setting the database URLs points the services at an external PostgreSQL.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EMBEDDED_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:55432/shegong"
Networks = Annotated[list[IPv4Network | IPv6Network], NoDecode]


def split_networks(value: Any) -> Any:
    """CIDRs from a comma- or space-separated setting (``10.0.0.0/8, 127.0.0.1``)."""
    if isinstance(value, str):
        value = [part for part in value.replace(" ", ",").split(",") if part]
    if isinstance(value, list | tuple):
        return [v if isinstance(v, IPv4Network | IPv6Network) else ip_network(str(v), strict=False) for v in value]
    return value


class ServiceSettings(BaseSettings):
    """What every service process needs. Subclasses set ``env_prefix`` and the default port."""

    model_config = SettingsConfigDict(env_prefix="SHEGONG_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        EMBEDDED_DATABASE_URL,
        description="SQLAlchemy URL with the asyncpg driver, e.g. postgresql+asyncpg://user:pw@host:5432/db",
    )
    database_read_url: str | None = Field(
        None,
        description="optional read-only replica (e.g. CloudNativePG's <cluster>-ro service) that read-only reports "
        "use; unset: they read the primary (database_url), in a read-only transaction either way",
    )
    db_pool_size: int = Field(5, ge=1, le=100)
    db_max_overflow: int = Field(5, ge=0, le=100)
    db_pool_timeout_seconds: float = Field(10.0, gt=0)
    db_connect_timeout_seconds: float = Field(5.0, gt=0, description="give up connecting to PostgreSQL after this")
    db_unavailable_retry_after_seconds: int = Field(
        5, ge=1, description="Retry-After of the 503 answered while the database cannot be reached"
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = "INFO"
    access_log: bool = True
    http_connect_timeout_seconds: float = Field(2.0, gt=0)
    http_timeout_seconds: float = Field(10.0, gt=0)
    http_max_connections: int = Field(100, ge=1)
    jwks_url: str = Field(
        "http://127.0.0.1:8000/.well-known/jwks.json", description="the gateway's public keys, for token checks"
    )
    token_url: str = Field("http://127.0.0.1:8000/api/v1/auth/token", description="where service clients get tokens")
    client_id: str | None = Field(None, description="this service's own API client, for service-to-service calls")
    client_secret: SecretStr | None = Field(None, description="the secret of ``client_id``")
    feeds_enabled: bool = Field(True, description="poll the other services' change feeds in the background")
    feed_poll_seconds: float = Field(1.0, gt=0, description="how often an idle feed is polled")
    feed_max_lag_seconds: float = Field(
        120.0, gt=0, description="not ready when a feed has not reached its end for longer than this"
    )
    feed_failures_before_unready: int = Field(3, ge=1, description="not ready after this many failed polls in a row")
    readiness_timeout_seconds: float = Field(2.0, gt=0, description="each /readyz check gives up after this")
    metrics_networks: Networks = Field(
        default_factory=lambda: [ip_network("127.0.0.0/8"), ip_network("::1/128")],
        description="CIDRs that may read /metrics, comma-separated (in a cluster: the pod network Prometheus "
        "scrapes from); a request that came through a proxy (X-Forwarded-For) never may",
    )

    @field_validator("metrics_networks", mode="before")
    @classmethod
    def _split_metrics_networks(cls, value: Any) -> Any:
        return split_networks(value)
