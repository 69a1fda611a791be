"""The compensation app's state, typed (``shared.state`` plus its own settings)."""

from __future__ import annotations

from typing import Any, Protocol, cast

from starlette.requests import HTTPConnection

from services.compensation.settings import Settings
from shared.state import ServiceState, app_state


class CompensationState(ServiceState, Protocol):
    settings: Settings


def compensation_state(source: HTTPConnection | Any) -> CompensationState:
    return cast("CompensationState", app_state(source))
