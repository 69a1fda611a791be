"""Compensation settings: environment prefix ``SHEGONG_COMPENSATION_`` (e.g. ``…_DATABASE_URL``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHEGONG_COMPENSATION_", extra="ignore")
    port: int = 8002
    roster_url: str = Field("http://127.0.0.1:8001", description="the roster service (its feed: workers, posts)")
    evaluation_url: str = Field("http://127.0.0.1:8003", description="the evaluation service (its feed: grades)")
    payroll_partitions: int = Field(2, ge=1, le=16, description="connections a large payroll run is split over")
    payroll_parallel_threshold: int = Field(200_000, ge=1, description="workers from which a run is split")
    payroll_lease_seconds: float = Field(
        30, gt=0, le=300, description="a large run's calculation lease; its heartbeat renews it every third"
    )
    payroll_reaper_seconds: float = Field(
        10, gt=0, le=60, description="how often runs whose calculating process died are looked for"
    )
    payroll_separate_approval: bool = Field(
        True,
        description="a run is approved by someone other than who calculated it (不相容职务分离); off only where "
        "one officer must do both",
    )
    step_up_dispatch_seconds: float = Field(
        10, gt=0, le=300, description="how often step-up orders the roster has not confirmed are sent again (C7)"
    )
