"""Gateway settings: environment prefix ``SHEGONG_GATEWAY_`` (e.g. ``SHEGONG_GATEWAY_ROSTER_URL``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_GATEWAY_", extra="ignore")
    port: int = 8000
    roster_url: str = Field("http://127.0.0.1:8001", description="base URL of the roster service")
    compensation_url: str = Field("http://127.0.0.1:8002", description="base URL of the compensation service")
    evaluation_url: str = Field("http://127.0.0.1:8003", description="base URL of the evaluation service")
    proxy_connect_timeout_seconds: float = Field(2.0, gt=0)
    proxy_read_timeout_seconds: float = Field(30.0, gt=0)
    proxy_max_connections: int = Field(256, ge=1)
    health_timeout_seconds: float = Field(2.0, gt=0)
    openapi_cache_seconds: float = Field(30.0, ge=0)

    def upstreams(self) -> dict[str, str]:
        """Service name → base URL: the routing table of ``/api/v1/<service>/…``."""
        return {
            "roster": self.roster_url.rstrip("/"),
            "compensation": self.compensation_url.rstrip("/"),
            "evaluation": self.evaluation_url.rstrip("/"),
        }
