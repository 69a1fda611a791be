"""HTTP routers of the roster service: thin, they validate and delegate."""

from fastapi import APIRouter

from services.roster.api.hr import router as hr_router
from services.roster.api.imports import router as imports_router
from services.roster.api.regions import router as regions_router
from services.roster.api.reports import router as reports_router
from services.roster.api.workers import router as workers_router
from services.roster.models import events
from services.roster.schemas import ENUM_LABELS
from shared.events import events_router
from shared.service_app import meta_router

ROUTERS: list[APIRouter] = [
    meta_router(ENUM_LABELS),
    regions_router,
    workers_router,
    hr_router,
    reports_router,
    imports_router,
    events_router(events),
]
