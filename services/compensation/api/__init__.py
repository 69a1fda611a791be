"""HTTP routers of the compensation service: thin, they validate and delegate."""

from fastapi import APIRouter

from services.compensation.api.annual import router as annual_router
from services.compensation.api.bonus import router as bonus_router
from services.compensation.api.contributions import router as contributions_router
from services.compensation.api.imports import router as imports_router
from services.compensation.api.payroll import router as payroll_router
from services.compensation.api.policy import router as policy_router
from services.compensation.api.recuperation import router as recuperation_router
from services.compensation.api.step_up import router as step_up_router
from services.compensation.models import events
from services.compensation.schemas import ENUM_LABELS
from shared.events import events_router
from shared.service_app import meta_router

ROUTERS: list[APIRouter] = [
    meta_router(ENUM_LABELS),
    policy_router,
    payroll_router,
    bonus_router,
    step_up_router,
    annual_router,
    recuperation_router,
    contributions_router,
    imports_router,
    events_router(events),
]
