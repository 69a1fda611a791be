"""Evaluation service tables, all in the PostgreSQL schema ``evaluation``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.columns import GeneratedId, Timestamp
from shared.db import schema_metadata
from shared.import_jobs import ImportErrorColumns, ImportJobColumns
from shared.projections import ProjectedWorker
from shared.service_tables import service_tables
from shared.sync import ChangeTracked


class Base(DeclarativeBase):
    metadata = schema_metadata("evaluation")


# The outbox, Idempotency-Key records and feed cursors (shared/service_tables.py).
# Where the evaluation service is in the roster's feed.
events, idempotency_keys, feed_cursors = service_tables(Base.metadata)


class WorkerProjection(ProjectedWorker, Base):
    """The roster's workers as far as assessment needs them, from the roster's feed (applied idempotently)."""

    post: Mapped[str | None] = mapped_column(String(10))
    source_version: Mapped[int] = mapped_column(
        Integer, comment="the roster record's version: older events are ignored"
    )


class Scheme(Base):
    """A county's assessment scheme for a year (E1–E3, E5): every parameter the county sets."""

    __tablename__ = "schemes"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    groups: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, comment="rater groups with weights and panel minimums (E2)"
    )
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="lowest score of each grade (E3)")
    excellent_cap_share: Mapped[Decimal | None] = mapped_column(Numeric(4, 3), comment="cap on 优秀 per township")
    daily_weight: Mapped[Decimal] = mapped_column(Numeric(4, 3), comment="daily against annual (E1)")
    training_hours_required: Mapped[Decimal] = mapped_column(Numeric(5, 1), server_default=text("40"), comment="E5")
    visit_share_required: Mapped[Decimal] = mapped_column(Numeric(4, 3), server_default=text("0.5"), comment="E7: 50 %")
    monthly_working_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1), server_default=text("174"), comment="E7")
    must_visit_days: Mapped[int] = mapped_column(Integer, server_default=text("30"), comment="E7: days to visit")
    source: Mapped[str] = mapped_column(String(300), comment="the county's document")
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class Cycle(ChangeTracked, Base):
    """A township's annual assessment, opened and closed by the township under the county's scheme (E1)."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("township_code", "year"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("cycles_change_txid_idx", "change_txid"),
    )

    id: Mapped[GeneratedId]
    township_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(8), comment="open | closed")
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[Timestamp]
    closed_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Score(Base):
    """One rater group's score of one worker in a cycle (E2); residents' may be an aggregate of a panel."""

    __tablename__ = "scores"
    __table_args__ = (CheckConstraint("score >= 0", name="score"),)

    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    rater_group: Mapped[str] = mapped_column(String(40), primary_key=True)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    panel_size: Mapped[int | None] = mapped_column(Integer)
    ordinary_share: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    entered_by: Mapped[str] = mapped_column(String(120))
    entered_at: Mapped[Timestamp]


class DailyScore(Base):
    """The rolled-up daily/quarterly assessment of a worker, weighed against the annual one (E1)."""

    __tablename__ = "daily_scores"

    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    entered_by: Mapped[str] = mapped_column(String(120))


class Result(Base):
    """A worker's result of a closed cycle; changed afterwards only by a recorded appeal."""

    __tablename__ = "results"
    __table_args__ = (Index("results_worker_year_idx", "worker_id", "year"),)

    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    grade: Mapped[str] = mapped_column(String(24), comment="E3")
    rank: Mapped[int] = mapped_column(Integer)
    capped: Mapped[bool] = mapped_column(server_default=text("false"), comment="优秀 demoted to 合格 by the cap")
    appeal_reason: Mapped[str | None] = mapped_column(String(500))
    appeal_decided_by: Mapped[str | None] = mapped_column(String(120))
    appeal_decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TrainingRecord(Base):
    """Centralised training attended (E5): course, organiser, hours, dates."""

    __tablename__ = "training_records"
    __table_args__ = (
        UniqueConstraint("worker_id", "course", "start_date"),
        CheckConstraint("hours > 0", name="hours"),
    )

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    course: Mapped[str] = mapped_column(String(200))
    organiser: Mapped[str] = mapped_column(String(100))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    entered_by: Mapped[str] = mapped_column(String(120))


class WorkCase(Base):
    """A worker's written case or experience summary for a year (E6), reviewed by the township."""

    __tablename__ = "work_cases"
    __table_args__ = (
        UniqueConstraint("worker_id", "year"),
        CheckConstraint("status IN ('submitted', 'approved', 'returned')", name="status"),
    )

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID)
    year: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(String(20000))
    status: Mapped[str] = mapped_column(String(10), comment="submitted | approved | returned")
    submitted_by: Mapped[str] = mapped_column(String(120))
    submitted_at: Mapped[Timestamp]
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(String(2000))


class Visit(ChangeTracked, Base):
    """A resident visit (E7) from the mobile app; its id is made by the app, so an upload can be repeated."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("visits_worker_started_idx", "worker_id", "started_at"),
        Index("visits_household_idx", "community_code", "building", "unit", "household"),
        Index("visits_change_txid_idx", "change_txid"),
        CheckConstraint("ended_at > started_at", name="period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, comment="made by the app (offline-first)")
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID)
    community_code: Mapped[str] = mapped_column(String(12))
    building: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20))
    household: Mapped[str] = mapped_column(String(20), comment="door number: no more personal detail than needed")
    must_visit_category: Mapped[str | None] = mapped_column(String(30))
    timely_type: Mapped[str | None] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[Timestamp]


class MustVisitHousehold(Base):
    """A household in one of the six must-visit categories (E7) since a date."""

    __tablename__ = "must_visit_households"
    __table_args__ = (UniqueConstraint("community_code", "building", "unit", "household", "category"),)

    id: Mapped[GeneratedId]
    community_code: Mapped[str] = mapped_column(String(12))
    building: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20))
    household: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    since: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(120))


class ImportJob(ImportJobColumns, Base):
    """A spreadsheet upload and its background run (issue #13; the shape is ``shared.import_jobs``)."""


class ImportCellError(ImportErrorColumns, Base):
    """One bad cell of an import job (``shared.import_jobs``)."""
