"""HTTP routers of the gateway itself (its forwarding route lives in :mod:`services.gateway.proxy`)."""

from fastapi import APIRouter

from services.gateway.api.health import router as health_router

ROUTERS: list[APIRouter] = [health_router]
