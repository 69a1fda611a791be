"""Typed events between the services: one pydantic model per event type (version 1), used by the producer
to write an event's data and by every consumer to read it.

Producers build the model and write ``model.to_data()``; consumers call ``read(event)`` or
``Model.from_event(event)``. Unknown members are kept (a newer producer may add one; an older consumer
ignores it), and a member a consumer relies on that is missing or malformed fails loudly. The JSON Schemas
of all of them are committed in ``shared/event-schemas.json`` and checked for drift like the OpenAPI
contracts (``python -m shared.contracts write``).
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

SCHEMAS = Path(__file__).with_name("event-schemas.json")


class EventData(BaseModel):
    model_config = ConfigDict(extra="allow")

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Self:
        return cls.model_validate(event["data"])

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class EmploymentPeriod(EventData):
    """One employment; ``left_date`` is the last day worked and paid (inclusive, C6), null while employed."""

    hire_date: date
    left_date: date | None = None


class WorkerChanged(EventData):
    """``worker.hired`` / ``worker.updated`` / ``worker.left`` / ``worker.transferred`` (roster): the worker as
    of ``version``; a consumer keeps the highest version it has seen. Never the ID number or phone."""

    worker_id: uuid.UUID
    name: str
    community_code: str
    county_code: str | None = None
    status: str = Field(description="status today (H4 probation, H6 on loan, left, pending …)")
    hire_date: date = Field(description="the latest employment's hire date")
    left_date: date | None = Field(None, description="the latest employment's leaving date, inclusive")
    education: str | None = None
    certificate_level: str | None = None
    certificate_date: date | None = None
    generalist: bool | None = None
    version: int
    employments: list[EmploymentPeriod] | None = Field(None, description="every employment, oldest first")
    changed: list[str] | None = None
    effective_date: date | None = Field(None, description="worker.transferred: first day in the new community")

    def periods(self) -> list[EmploymentPeriod]:
        """The employments, or the one the hire and leaving dates describe (older producers)."""
        if self.employments is not None:
            return self.employments
        return [EmploymentPeriod(hire_date=self.hire_date, left_date=self.left_date)]


class PostAssigned(EventData):
    """``post.assigned`` (roster): a post and grade from ``start_date`` (P1–P4, C4)."""

    worker_id: uuid.UUID
    community_code: str | None = None
    post: str
    grade: int
    start_date: date
    duties: list[str] = Field(default_factory=list, description="P4 areas")


class QuotaSet(EventData):
    """``quota.set`` (roster): a county's headcount quota for a year (S5)."""

    county_code: str
    year: int
    headcount: int


class AssessmentGraded(EventData):
    """``assessment.finalized`` / ``assessment.appealed`` / ``assessment.second_incompetent`` (evaluation):
    a worker's annual grade (E3, E4)."""

    worker_id: uuid.UUID
    year: int
    grade: str
    score: Decimal | None = None
    cycle_id: uuid.UUID | None = None
    township_code: str | None = None


class PayrollRunReversed(EventData):
    """``payroll_run.reversed`` (compensation): an approved run taken back before it was paid; its payslips
    are gone and its workers' month is free for another run (paid once). The totals are those it had."""

    run_id: uuid.UUID
    region_code: str
    month: str = Field(description="YYYY-MM")
    workers: int
    gross_total: Decimal
    net_total: Decimal
    approved_by: str | None = None
    by: str = Field(description="who reversed it")
    reason: str


EVENTS: dict[str, type[EventData]] = {
    "worker.hired": WorkerChanged,
    "worker.updated": WorkerChanged,
    "worker.left": WorkerChanged,
    "worker.transferred": WorkerChanged,
    "post.assigned": PostAssigned,
    "quota.set": QuotaSet,
    "assessment.finalized": AssessmentGraded,
    "assessment.appealed": AssessmentGraded,
    "assessment.second_incompetent": AssessmentGraded,
    "payroll_run.reversed": PayrollRunReversed,
}


def read(event: dict[str, Any]) -> EventData:
    """An event's data as its type's model."""
    return EVENTS[event["type"]].from_event(event)


def json_schemas() -> dict[str, Any]:
    return {
        "$comment": "JSON Schemas of shegong's cross-service events, version 1 (python -m shared.contracts write)",
        "events": {name: model.model_json_schema() for name, model in EVENTS.items()},
    }


def render() -> str:
    return json.dumps(json_schemas(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["write"]:
        SCHEMAS.write_text(render(), encoding="utf-8")
        print(f"wrote {SCHEMAS}")  # noqa: T201 - a command-line tool
        return 0
    print("usage: python -m shared.contracts write", file=sys.stderr)  # noqa: T201
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
