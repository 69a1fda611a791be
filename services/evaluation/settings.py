"""Evaluation settings: environment prefix ``SHEGONG_EVALUATION_`` (e.g. ``SHEGONG_EVALUATION_DATABASE_URL``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_EVALUATION_", extra="ignore")
    port: int = 8003
    roster_url: str = Field("http://127.0.0.1:8001", description="the roster service (its feed: workers, posts)")
    visit_clock_skew_seconds: int = Field(
        300,
        ge=0,
        le=3600,
        description="a visit may end at most this far in the future (the phone's clock runs ahead); later is refused",
    )
