"""HTTP routers of the evaluation service: thin, they validate and delegate."""

from fastapi import APIRouter

from services.evaluation.api.assessment import router as assessment_router
from services.evaluation.api.imports import router as imports_router
from services.evaluation.api.mobile import router as mobile_router
from services.evaluation.api.residents import router as residents_router
from services.evaluation.api.training import router as training_router
from services.evaluation.models import events
from services.evaluation.schemas import ENUM_LABELS
from shared.events import events_router
from shared.service_app import meta_router

ROUTERS: list[APIRouter] = [
    meta_router(ENUM_LABELS),
    assessment_router,
    training_router,
    residents_router,
    mobile_router,
    imports_router,
    events_router(events),
]
