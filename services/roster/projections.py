"""What the roster keeps of other services' feeds: the evaluation service's annual grades (H8)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.models import AssessmentResult, feed_cursors
from services.roster.state import roster_state
from shared.feed_consumer import CATCH_UP_PAGES, FeedConsumer
from shared.projection_pages import GRADE_TYPES, table_of, upsert_grades
from shared.projections import upsert_grade


async def apply_assessment(session: AsyncSession, event: dict[str, Any]) -> None:
    """``assessment.finalized`` / ``assessment.appealed``: the worker's grade for the year (idempotent upsert)."""
    await upsert_grade(session, AssessmentResult, event, touch={"updated_at": func.now()})


async def apply_assessment_page(session: AsyncSession, page: list[dict[str, Any]]) -> None:
    """A page of grades set-wise (one upsert; the page's last grade of a worker and year wins)."""
    await upsert_grades(session, page, table_of(AssessmentResult), touch={"updated_at": func.now()})


def roster_feeds(app: FastAPI) -> list[FeedConsumer]:
    settings = roster_state(app).settings
    return [
        FeedConsumer(
            source="evaluation",
            base_url=settings.evaluation_url,
            handlers=dict.fromkeys(GRADE_TYPES, apply_assessment),
            page_handler=apply_assessment_page,
            cursors=feed_cursors,
            pages_per_poll=CATCH_UP_PAGES,
            state=roster_state(app),
        )
    ]
