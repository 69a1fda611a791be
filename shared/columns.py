"""Columns the services' tables declare alike, each defined once as an annotated type (SQLAlchemy's
``Mapped[Annotated[...]]`` declarations): ``id: Mapped[GeneratedId]``, ``created_at: Mapped[CreatedAt]``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from sqlalchemy import DateTime, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

GeneratedId = Annotated[uuid.UUID, mapped_column(UUID, primary_key=True, server_default=text("gen_random_uuid()"))]
"""A UUID primary key that PostgreSQL generates when the insert gives none."""

CreatedAt = Annotated[datetime, mapped_column(DateTime(timezone=True), server_default=func.now())]
"""When the row was inserted (UTC), as PostgreSQL's clock says."""


class ProjectedGrade:
    """A consuming service's copy of the evaluation service's annual grades (feed ``assessment.finalized``): a
    declarative mixin, each service names its table and adds its own columns."""

    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    grade: Mapped[str] = mapped_column(String(24))
