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

from shared.vocabulary import AssessmentGrade, Post

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
    post: Post
    grade: int
    start_date: date
    duties: list[str] = Field(default_factory=list, description="P4 areas")


class ContractSigned(EventData):
    """``contract.signed`` (roster): a labour contract from ``start_date`` to ``end_date`` (H3: three years, a
    first contract carrying the probation, H4), or a renewal of the previous one (H7, H8)."""

    worker_id: uuid.UUID
    start_date: date
    end_date: date
    renewal: bool


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
    grade: AssessmentGrade
    score: Decimal | None = None
    cycle_id: uuid.UUID | None = None
    township_code: str | None = None


class CycleClosed(EventData):
    """``cycle.closed`` (evaluation): a township's annual assessment closed (E1, E3), recorded after the
    ``assessment.finalized`` of each of its ``results``: a reader of the feed that has this event has every
    grade of the cycle. The compensation service shares a township's bonus only then (C5)."""

    cycle_id: uuid.UUID
    township_code: str
    year: int
    results: int


# Events no other service consumes today: typed all the same, for webhook subscribers and feed readers
# outside the suite (their JSON Schemas are published with the others).


class WorkerTransferredFrom(WorkerChanged):
    """``worker.transferred`` (roster): the worker as now, with the community left (H5, K3)."""

    from_community: str | None = None


class WorkerSeconded(EventData):
    """``worker.seconded`` (roster): a loan or practice posting away from the community (H6)."""

    worker_id: uuid.UUID
    kind: str
    host: str
    start_date: date
    end_date: date | None = None
    approval: str | None = None


class ContractRecontracted(EventData):
    """``contract.recontracted`` (roster): a contract signed again under a prior arrangement (H9)."""

    worker_id: uuid.UUID
    contract_id: uuid.UUID
    township_code: str
    start_date: date
    end_date: date
    prior_arrangement: str | None = None
    rule: str = "H9"


class RegionCreated(EventData):
    """``region.created`` (roster): a region of the tree, with a community's kind and size (S1–S4)."""

    code: str
    name: str
    parent_code: str | None = None
    kind: str | None = None
    households: int = 0
    population: int = 0
    extra_staff: int = 0
    extra_staff_approval: str | None = None


class RegionUpdated(EventData):
    """``region.updated`` (roster): the members changed, and the region's new version."""

    version: int
    name: str | None = None
    kind: str | None = None
    households: int | None = None
    population: int | None = None
    extra_staff: int | None = None
    extra_staff_approval: str | None = None


class StaffingPolicySet(EventData):
    """``staffing_policy.set`` (roster): a region's staffing parameters for a year (S1, S3), with their source."""

    parameters: dict[str, Any]
    source: str | None = None


class RecruitmentRoundAnnounced(EventData):
    """``recruitment_round.announced`` (roster): a county's round (H1), ending the previous reserve (H2)."""

    county_code: str
    channel: str
    announced_on: date
    hires: int
    title: str


class PayrollRunCreated(EventData):
    """``payroll_run.created`` (compensation): a run of a region and month."""

    region_code: str
    month: str = Field(description="YYYY-MM")


class PayrollRunAdvanced(EventData):
    """``payroll_run.approved`` / ``payroll_run.paid`` / ``payroll_run.cancelled`` (compensation): who moved the
    run, and its gross total once calculated."""

    region_code: str
    month: str = Field(description="YYYY-MM")
    by: str
    gross_total: Decimal | None = None


class PolicyProfileSet(EventData):
    """``policy_profile.set`` (compensation): a region's pay parameters for a year (C1–C11), each sourced."""

    preset: str | None = None
    parameters: dict[str, Any]
    sources: dict[str, str]


class PayScaleSet(EventData):
    """``pay_scale.set`` (compensation): cells of a county's 三岗十八级 scale set (C4)."""

    county_code: str
    year: int
    cells: int


class StepUpApplied(EventData):
    """``step_up.applied`` (compensation): a region's C7 step-ups ordered from ``effective``."""

    workers: int
    effective: date


class BonusAllocated(EventData):
    """``bonus.allocated`` (compensation): a township's performance bonus pool for a year (C5), or its
    replacement of an earlier allocation."""

    township_code: str
    year: int
    pool: Decimal
    replaces: uuid.UUID | None = None


class BonusReversed(EventData):
    """``bonus.reversed`` (compensation): an allocation replaced by another (C5)."""

    township_code: str
    year: int
    pool: Decimal
    replaced_by: uuid.UUID


class RecuperationRecorded(EventData):
    """``recuperation.recorded`` (compensation): a claim, asked and allowed within the caps (C10)."""

    claim_id: uuid.UUID
    worker_id: uuid.UUID
    amount_requested: Decimal
    amount: Decimal = Field(description="allowed")


class SchemeSet(EventData):
    """``scheme.set`` (evaluation): a county's assessment scheme for a year (E1, E2)."""

    county_code: str
    year: int


class CycleOpened(EventData):
    """``cycle.opened`` (evaluation): a township's annual assessment (E1)."""

    township_code: str
    year: int


class TrainingRecorded(EventData):
    """``training.recorded`` (evaluation): a course's attendance (E5)."""

    course: str
    hours: Decimal
    attendees: int


class WorkCaseSubmitted(EventData):
    """``work_case.submitted`` (evaluation): a worker's case or experience summary of a year (E6)."""

    worker_id: uuid.UUID
    year: int


class VisitsRecorded(EventData):
    """``visits.recorded`` (evaluation): how many of a worker's visits a batch stored (E7)."""

    worker_id: uuid.UUID
    community_code: str
    count: int


class MustVisitChanged(EventData):
    """``must_visit.registered`` / ``must_visit.removed`` (evaluation): a household of the six must-visit
    categories (E7); the apps keep or drop it."""

    id: uuid.UUID
    community_code: str
    building: str | None = None
    unit: str | None = None
    household: str
    category: str
    since: date


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
    "worker.transferred": WorkerTransferredFrom,
    "worker.seconded": WorkerSeconded,
    "post.assigned": PostAssigned,
    "contract.signed": ContractSigned,
    "contract.recontracted": ContractRecontracted,
    "region.created": RegionCreated,
    "region.updated": RegionUpdated,
    "staffing_policy.set": StaffingPolicySet,
    "recruitment_round.announced": RecruitmentRoundAnnounced,
    "quota.set": QuotaSet,
    "assessment.finalized": AssessmentGraded,
    "assessment.appealed": AssessmentGraded,
    "assessment.second_incompetent": AssessmentGraded,
    "scheme.set": SchemeSet,
    "cycle.opened": CycleOpened,
    "cycle.closed": CycleClosed,
    "training.recorded": TrainingRecorded,
    "work_case.submitted": WorkCaseSubmitted,
    "visits.recorded": VisitsRecorded,
    "must_visit.registered": MustVisitChanged,
    "must_visit.removed": MustVisitChanged,
    "payroll_run.created": PayrollRunCreated,
    "payroll_run.approved": PayrollRunAdvanced,
    "payroll_run.paid": PayrollRunAdvanced,
    "payroll_run.cancelled": PayrollRunAdvanced,
    "policy_profile.set": PolicyProfileSet,
    "pay_scale.set": PayScaleSet,
    "step_up.applied": StepUpApplied,
    "bonus.allocated": BonusAllocated,
    "bonus.reversed": BonusReversed,
    "recuperation.recorded": RecuperationRecorded,
    "payroll_run.reversed": PayrollRunReversed,
}


def check_contract(type_: str, data: dict[str, Any]) -> None:
    """``data`` fits the contract of ``type_`` (raises ``KeyError`` for a type without one, pydantic's
    ``ValidationError`` for a payload that does not fit): every producer is held to the published schema."""
    if type_ not in EVENTS:
        raise KeyError(f"event type {type_!r} has no contract in shared/contracts.py")
    EVENTS[type_].model_validate(data)


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
