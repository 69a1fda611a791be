"""HTTP routers of the roster service: thin, they validate and delegate."""

from fastapi import APIRouter

from services.roster.models import events
from services.roster.schemas import ENUM_LABELS
from shared.events import events_router
from shared.service_app import meta_router

ROUTERS: list[APIRouter] = [meta_router(ENUM_LABELS), events_router(events)]
