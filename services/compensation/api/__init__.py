"""HTTP routers of the compensation service: thin, they validate and delegate."""

from fastapi import APIRouter

from services.compensation.models import events
from services.compensation.schemas import ENUM_LABELS
from shared.events import events_router
from shared.service_app import meta_router

ROUTERS: list[APIRouter] = [meta_router(ENUM_LABELS), events_router(events)]
