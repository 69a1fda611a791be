"""Columns the services' tables declare alike, each defined once as an annotated type (SQLAlchemy's
``Mapped[Annotated[...]]`` declarations): ``id: Mapped[GeneratedId]``, ``created_at: Mapped[Timestamp]``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from sqlalchemy import DateTime, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

GeneratedId = Annotated[uuid.UUID, mapped_column(UUID, primary_key=True, server_default=text("gen_random_uuid()"))]
"""A UUID primary key that PostgreSQL generates when the insert gives none."""

Timestamp = Annotated[datetime, mapped_column(DateTime(timezone=True), server_default=func.now())]
"""A time (UTC) that PostgreSQL sets to the insert's when none is given: ``created_at``, ``received_at``, a projected
copy's ``updated_at`` …; a column adds its comment with ``= mapped_column(comment=...)``."""


class ProjectedGrade:
    """A consuming service's copy of the evaluation service's annual grades (feed ``assessment.finalized``): a
    declarative mixin, each service names its table and adds its own columns."""

    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    grade: Mapped[str] = mapped_column(String(24))
