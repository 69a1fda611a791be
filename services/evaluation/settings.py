"""Evaluation settings: environment prefix ``SHEGONG_EVALUATION_`` (e.g. ``SHEGONG_EVALUATION_DATABASE_URL``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_EVALUATION_", extra="ignore")
    port: int = 8003
    roster_url: str = Field("http://127.0.0.1:8001", description="the roster service (its feed: workers, posts)")
