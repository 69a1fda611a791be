"""Compensation settings: environment prefix ``SHEGONG_COMPENSATION_`` (e.g. ``SHEGONG_COMPENSATION_DATABASE_URL``)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_COMPENSATION_", extra="ignore")
    port: int = 8002
