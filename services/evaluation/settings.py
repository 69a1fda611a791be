"""Evaluation settings: environment prefix ``SHEGONG_EVALUATION_`` (e.g. ``SHEGONG_EVALUATION_DATABASE_URL``)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_EVALUATION_", extra="ignore")
    port: int = 8003
