"""Roster service tables, all in the PostgreSQL schema ``roster``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.columns import GeneratedId, ProjectedGrade, Timestamp
from shared.db import schema_metadata
from shared.events import CURRENT_TXID
from shared.import_jobs import ImportErrorColumns, ImportJobColumns
from shared.service_tables import service_tables
from shared.sync import ChangeTracked


class Base(DeclarativeBase):
    metadata = schema_metadata("roster")


# The outbox, Idempotency-Key records and feed cursors (shared/service_tables.py).
# Where the roster is in the feeds it consumes (evaluation: assessment grades for H8).
events, idempotency_keys, feed_cursors = service_tables(Base.metadata)


class Region(ChangeTracked, Base):
    """A node of the division tree: province, city, county, township, community/village."""

    __tablename__ = "regions"
    __table_args__ = (
        Index("regions_path_idx", "path", postgresql_ops={"path": "text_pattern_ops"}),
        Index("regions_change_txid_idx", "change_txid"),
        CheckConstraint("households >= 0 AND population >= 0 AND extra_staff >= 0", name="counts"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True, comment="official code (6 or 12 digits)")
    path: Mapped[str] = mapped_column(String(12), unique=True, comment="the code in 12-digit form, for prefixes")
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    level: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(30), comment="community kind (S1–S4); null above")
    households: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    population: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    extra_staff: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"), comment="S3 extra posts")
    extra_staff_approval: Mapped[str | None] = mapped_column(String(200), comment="S3 approving document")
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class StaffingPolicyOverride(Base):
    """A region's own staffing parameters for a year (S1–S8, P2–P3); missing ones come from above."""

    __tablename__ = "staffing_policies"

    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(String(300), comment="the document the parameters come from")
    created_at: Mapped[Timestamp]


class Quota(Base):
    """A county's headcount quota (员额) for a year (S5)."""

    __tablename__ = "quotas"
    __table_args__ = (CheckConstraint("headcount >= 0", name="headcount"),)

    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    headcount: Mapped[int] = mapped_column(Integer)
    approval: Mapped[str | None] = mapped_column(String(200), comment="approving document")
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    updated_at: Mapped[Timestamp]


class Worker(Base):
    """One person, one record, across the province: found by the keyed hash of the ID number."""

    __tablename__ = "workers"
    __table_args__ = (
        Index("workers_community_path_idx", "community_path", postgresql_ops={"community_path": "text_pattern_ops"}),
        Index("workers_status_idx", "status"),
        Index("workers_change_txid_idx", "change_txid"),
        # the list's name filter: a surname or full name as a prefix (roster_0011 says why not pg_trgm)
        Index("workers_name_prefix_idx", "name", postgresql_ops={"name": "text_pattern_ops"}),
        # the workforce export's keyset order (roster_0015): each batch an index range scan, not a sort of the scope
        Index("workers_export_order_idx", "community_path", "hire_date", "id_number", "id"),
        # the status last published (WorkerStatus): anything else is refused by the database too
        CheckConstraint("status IN ('pending', 'probation', 'active', 'on_loan', 'left')", name="status"),
    )

    id: Mapped[GeneratedId]
    id_number_key: Mapped[str] = mapped_column(String(64), unique=True, comment="HMAC-SHA256 of the ID number")
    id_number: Mapped[str] = mapped_column(String(18), comment="read only through the audited path")
    name: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(6), comment="derived from the ID number")
    birth_date: Mapped[date] = mapped_column(Date, comment="derived from the ID number")
    phone: Mapped[str | None] = mapped_column(String(20))
    education: Mapped[str | None] = mapped_column(String(20))
    political_status: Mapped[str | None] = mapped_column(String(30))
    community_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    community_path: Mapped[str] = mapped_column(String(12), comment="12-digit form, for region scoping")
    lives_in_community: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), comment="S6")
    generalist: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), comment="S7")
    grid_duties: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), comment="S8")
    certificate_level: Mapped[str | None] = mapped_column(String(20))
    certificate_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(
        String(12), comment="status as last published in the feed; reads derive it as of a date (H4, H6)"
    )
    hire_date: Mapped[date] = mapped_column(Date, comment="hire date of the latest employment")
    left_date: Mapped[date | None] = mapped_column(Date, comment="inclusive: last day of the latest employment")
    career_staff_date: Mapped[date | None] = mapped_column(Date, comment="K3: took a career-staff (事业编制) post")
    career_staff_document: Mapped[str | None] = mapped_column(String(200), comment="K3: the appointing document")
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    # Pull sync (``updated_since``): the transaction that last wrote the row, stamped by a trigger; the
    # outbox's commit order (event_commits) numbers that transaction as it commits (shared/sync.py).
    change_txid: Mapped[int] = mapped_column(
        BigInteger, server_default=CURRENT_TXID, comment="the transaction that last wrote the row (pull sync)"
    )


class Employment(Base):
    """One period of a worker's employment: a re-hire adds one, the person record stays the same."""

    __tablename__ = "employments"
    __table_args__ = (
        Index("employments_one_open_idx", "worker_id", unique=True, postgresql_where=text("left_date IS NULL")),
        CheckConstraint("left_date IS NULL OR left_date >= hire_date", name="period"),
    )

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workers.id"), index=True)
    hire_date: Mapped[date] = mapped_column(Date, comment="first day employed")
    left_date: Mapped[date | None] = mapped_column(Date, comment="inclusive: last day worked and paid (C6)")
    probation_end: Mapped[date] = mapped_column(Date, comment="H4, inclusive: last day of probation")
    created_at: Mapped[Timestamp]


class PostAssignment(Base):
    """A worker's post (P1) and grade (C4) in a community for a period; history is kept."""

    __tablename__ = "post_assignments"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 18", name="grade"),
        CheckConstraint("end_date IS NULL OR end_date > start_date", name="period"),
    )

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workers.id"), index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    post: Mapped[str] = mapped_column(String(10))
    grade: Mapped[int] = mapped_column(SmallInteger)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, comment="exclusive; null while held")
    approval: Mapped[str | None] = mapped_column(String(200), comment="P2: approval of a second chief")
    duties: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"), comment="P4 duty areas")
    created_at: Mapped[Timestamp]


class PersonalDataRead(ChangeTracked, Base):
    """Append-only record of every unmasked read of personal data: who, what, when, request id."""

    __tablename__ = "personal_data_reads"
    __table_args__ = (
        Index("personal_data_reads_worker_ids_idx", "worker_ids", postgresql_using="gin"),
        Index("personal_data_reads_change_txid_idx", "change_txid"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    actor: Mapped[str] = mapped_column(String(120))
    worker_id: Mapped[uuid.UUID | None] = mapped_column(UUID, comment="the one worker of a single read")
    worker_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), comment="every worker whose data was shown (a bulk read or export names them all)"
    )
    region: Mapped[str] = mapped_column(String(12), comment="the smallest region holding every worker named")
    fields: Mapped[list[str]] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(128))


class Contract(Base):
    """A labour contract with the township: one year at a time (H3), probation in the first (H4)."""

    __tablename__ = "contracts"
    __table_args__ = (CheckConstraint("end_date > start_date", name="period"),)

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workers.id"), index=True)
    township_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), comment="the township that signs (H3)")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date, comment="exclusive", index=True)
    probation_end: Mapped[date | None] = mapped_column(Date, comment="H4: first contract only")
    renewal_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contracts.id"))
    h9_recontract: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false"), comment="H9: re-contracting of a worker recruited before the rules"
    )
    prior_arrangement: Mapped[str | None] = mapped_column(String(200), comment="H9: how the worker was engaged before")
    created_at: Mapped[Timestamp]


class Secondment(Base):
    """A loan to another department (借用) or a practice posting (跟岗锻炼), with its limits (H6)."""

    __tablename__ = "secondments"
    __table_args__ = (CheckConstraint("end_date > start_date", name="period"),)

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), comment="loan | practice")
    host: Mapped[str] = mapped_column(String(100), comment="receiving department or unit")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date, comment="exclusive")
    approval: Mapped[str | None] = mapped_column(String(200), comment="H6: the county's approval of a loan")
    created_at: Mapped[Timestamp]


class Transfer(Base):
    """A move to another community (转岗), allowed after 2 years of service (H5)."""

    __tablename__ = "transfers"

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workers.id"), index=True)
    from_community: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    to_community: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    effective_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[Timestamp]


class RecruitmentRound(Base):
    """A county's recruitment round (H1): channel, announcement date, hires."""

    __tablename__ = "recruitment_rounds"
    __table_args__ = (Index("recruitment_rounds_county_date_idx", "county_code", "announced_on"),)

    id: Mapped[GeneratedId]
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    channel: Mapped[str] = mapped_column(String(12), comment="election | recruitment (H1)")
    announced_on: Mapped[date] = mapped_column(Date)
    hires: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[Timestamp]


class ReserveEntry(Base):
    """A candidate who sat the round's exam but was not hired, in the county's reserve pool (H2)."""

    __tablename__ = "reserve_entries"

    id: Mapped[GeneratedId]
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recruitment_rounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    id_number_key: Mapped[str] = mapped_column(String(64))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[Timestamp]


class AssessmentResult(ProjectedGrade, Base):
    """Projection of the evaluation service's annual grades (feed ``assessment.finalized``), for H8."""

    __tablename__ = "assessment_results"

    updated_at: Mapped[Timestamp]


class ImportJob(ImportJobColumns, Base):
    """A spreadsheet upload and its background run (issue #13; the shape is ``shared.import_jobs``)."""


class ImportCellError(ImportErrorColumns, Base):
    """One bad cell of an import job (``shared.import_jobs``)."""
