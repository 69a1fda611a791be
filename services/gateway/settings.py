"""Gateway settings: environment prefix ``SHEGONG_GATEWAY_`` (e.g. ``SHEGONG_GATEWAY_ROSTER_URL``)."""

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from services.gateway.upstreams import replicas
from services.gateway.webhook_secrets import DEVELOPMENT_WEBHOOK_KEY, SecretBox
from shared.settings import ServiceSettings

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_GATEWAY_", extra="ignore")
    port: int = 8000
    roster_url: str = Field(
        "http://127.0.0.1:8001", description="base URL of the roster service; several replicas: comma-separated"
    )
    compensation_url: str = Field(
        "http://127.0.0.1:8002", description="base URL of the compensation service; several: comma-separated"
    )
    evaluation_url: str = Field(
        "http://127.0.0.1:8003", description="base URL of the evaluation service; several: comma-separated"
    )
    upstream_cooldown_seconds: float = Field(
        5.0, ge=0, description="a replica that refused a connection gets no requests for this long"
    )
    proxy_connect_timeout_seconds: float = Field(2.0, gt=0)
    proxy_read_timeout_seconds: float = Field(30.0, gt=0)
    proxy_max_connections: int = Field(256, ge=1)
    health_timeout_seconds: float = Field(2.0, gt=0)
    openapi_cache_seconds: float = Field(30.0, ge=0)

    # Identity
    province_code: str = Field("330000", description="the province of this deployment (bootstrap admin's scope)")
    signing_keys_dir: Path | None = Field(
        None, description="folder of Ed25519 private keys (PEM), newest signs; required in production"
    )
    signing_key_activation_seconds: int = Field(
        300,
        ge=0,
        le=24 * 3600,
        description="a new signing key is published at once but signs only this long after it was made, "
        "so that every gateway replica and service can verify its tokens first (outage-free key rotation)",
    )
    access_token_ttl_seconds: int = Field(600, ge=30, le=3600)
    refresh_token_ttl_seconds: int = Field(14 * 24 * 3600, ge=300)
    token_version_cache_seconds: float = Field(
        2.0,
        ge=0,
        le=30,
        description="how long the gateway trusts what it read of an account's token version: the longest "
        "a disabled account, a removed grant or a changed password leaves its access tokens usable",
    )
    refresh_token_reuse_grace_seconds: float = Field(
        30.0,
        ge=0,
        le=300,
        description="a refresh token presented again this soon after its rotation gets the same successor "
        "(a phone that retried on a flaky network); later, the reuse revokes its whole session",
    )
    client_secret_grace_seconds: int = Field(
        3600,
        ge=0,
        le=7 * 24 * 3600,
        description="an API client's previous secret stays valid this long after a rotation, so the client "
        "can be given the new one without an outage",
    )
    password_hash_time_cost: int = Field(3, ge=1)
    password_hash_memory_kib: int = Field(65536, ge=8)
    signin_max_failures: int = Field(5, ge=1, description="failures of one account before its sign-in slows down")
    signin_address_max_failures: int = Field(
        50,
        ge=1,
        description="failures from one address (any accounts) before sign-in from it slows down: higher than "
        "per account, since an office's users share one NAT address",
    )
    signin_failure_window_seconds: int = Field(900, ge=1)
    signin_max_delay_seconds: int = Field(900, ge=1)
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="CIDRs of the reverse proxies in front of the gateway, comma-separated: only a connection "
        "from one of these may name the client's address in X-Forwarded-For (default none: the peer is the client)",
    )

    # Rate limits: requests per window, per user / per API client / per address when anonymous.
    rate_limit_window_seconds: float = Field(60.0, gt=0)
    rate_limit_user: int = Field(600, ge=1)
    rate_limit_client: int = Field(6000, ge=1)
    rate_limit_anonymous: int = Field(120, ge=1)
    rate_limit_lease_share: float = Field(
        0.02,
        ge=0,
        le=1,
        description="a replica leases this share of a key's limit from the shared cell at once (a block of "
        "admissions, one database round trip) instead of a round trip per request; R replicas admit at most "
        "R × (block − 1) more than the limit in any span (services.gateway.rate_limits); 0: a round trip per request",
    )
    rate_limit_lease_max: int = Field(50, ge=1, le=10_000, description="the largest block a replica leases at once")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS (web views, consoles)")

    # Webhooks (docs/webhooks.md, WH1–WH5)
    webhook_allow_loopback: bool | None = Field(
        None,
        description="subscriptions may point at loopback and link-local addresses (WH2); default: everywhere but "
        "production (development and tests run their receivers on 127.0.0.1)",
    )
    webhook_secret_overlap_seconds: int = Field(
        24 * 3600,
        ge=0,
        le=7 * 24 * 3600,
        description="after a secret rotation the previous secret signs too, this long (WH3)",
    )
    webhook_secret_keys: SecretStr = Field(
        SecretStr(DEVELOPMENT_WEBHOOK_KEY),
        description="Fernet keys that seal subscribers' secrets at rest, comma-separated: the first seals, each "
        "opens (rotation: put a new one first, restart, then drop the old); required in production",
    )
    webhook_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0 * 2**attempt for attempt in range(14)],
        description="base wait after each failed try, comma-separated; a delivery is parked when they are spent "
        "(WH4; default 5 s doubling, 15 tries over about 23 hours)",
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60, description="a receiver answers within this")
    webhook_batch_size: int = Field(50, ge=1, le=1000, description="deliveries claimed by one pass of the worker")
    webhook_lease_seconds: float = Field(
        120.0, gt=0, description="a claimed delivery is tried again after this if its sender died mid-send"
    )
    webhook_poll_seconds: float = Field(1.0, gt=0, description="how often the delivery worker looks for due work")

    @field_validator("webhook_retry_seconds", mode="before")
    @classmethod
    def _split_schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [float(part) for part in value.replace(" ", ",").split(",") if part]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.replace(" ", ",").split(",") if part]
        if isinstance(value, list | tuple):
            return [v if isinstance(v, IPv4Network | IPv6Network) else ip_network(str(v), strict=False) for v in value]
        return value

    @model_validator(mode="after")
    def _keys_in_production(self) -> "Settings":
        if self.signing_keys_dir is None:
            if self.environment == "production":
                raise ValueError("SHEGONG_GATEWAY_SIGNING_KEYS_DIR must be set in production")
            self.signing_keys_dir = REPO_ROOT / ".data" / "keys"
        if self.webhook_allow_loopback is None:
            self.webhook_allow_loopback = self.environment != "production"
        keys = self.webhook_secret_keys.get_secret_value()
        if self.environment == "production" and DEVELOPMENT_WEBHOOK_KEY in keys:
            raise ValueError("SHEGONG_GATEWAY_WEBHOOK_SECRET_KEYS must be set in production (not the development key)")
        SecretBox(keys)  # a malformed key stops the start, naming the setting
        return self

    def upstreams(self) -> dict[str, str]:
        """Service name → base URL (or URLs, comma-separated: its replicas, services.gateway.upstreams):
        the routing table of ``/api/v1/<service>/…``."""
        return {
            "roster": ",".join(replicas(self.roster_url)),
            "compensation": ",".join(replicas(self.compensation_url)),
            "evaluation": ",".join(replicas(self.evaluation_url)),
        }
