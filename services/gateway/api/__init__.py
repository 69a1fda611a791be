"""HTTP routers of the gateway itself (its forwarding route lives in :mod:`services.gateway.proxy`)."""

from fastapi import APIRouter

from services.gateway.api.audit import router as audit_router
from services.gateway.api.auth import router as auth_router
from services.gateway.api.health import router as health_router
from services.gateway.api.identity import router as identity_router
from services.gateway.api.webhooks import router as webhooks_router

ROUTERS: list[APIRouter] = [health_router, auth_router, identity_router, audit_router, webhooks_router]
