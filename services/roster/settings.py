"""Roster settings: environment prefix ``SHEGONG_ROSTER_`` (e.g. ``SHEGONG_ROSTER_DATABASE_URL``)."""

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEVELOPMENT_ID_KEY = "shegong-development-only-id-number-key"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_ROSTER_", extra="ignore")
    port: int = 8001
    evaluation_url: str = Field("http://127.0.0.1:8003", description="the evaluation service (its feed: H8)")
    lifecycle_enabled: bool = Field(
        True, description="publish status transitions (probation end, loans, leaving) as the dates pass (H4, H6)"
    )
    lifecycle_interval_seconds: float = Field(300.0, gt=0, description="how often due status transitions are sought")
    id_number_hash_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_ID_KEY),
        description="secret of the keyed hash that finds a worker by ID number; set it (and keep it) in production",
    )

    @model_validator(mode="after")
    def _real_key_in_production(self) -> "Settings":
        if self.environment == "production" and self.id_number_hash_key.get_secret_value() == DEVELOPMENT_ID_KEY:
            raise ValueError("SHEGONG_ROSTER_ID_NUMBER_HASH_KEY must be set in production")
        return self
