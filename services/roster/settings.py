"""Roster settings: environment prefix ``SHEGONG_ROSTER_`` (e.g. ``SHEGONG_ROSTER_DATABASE_URL``)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_ROSTER_", extra="ignore")
    port: int = 8001
