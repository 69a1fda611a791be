"""The compensation app's state, typed (``shared.state`` plus its own settings)."""

from __future__ import annotations

from typing import Protocol, cast

from fastapi import Request

from services.compensation.settings import Settings
from shared.state import ServiceState


class CompensationState(ServiceState, Protocol):
    settings: Settings


def compensation_state(request: Request) -> CompensationState:
    return cast("CompensationState", request.app.state)
