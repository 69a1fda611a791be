"""The evaluation app's state, typed (``shared.state`` plus its own settings)."""

from __future__ import annotations

from typing import Any, Protocol, cast

from starlette.requests import HTTPConnection

from services.evaluation.settings import Settings
from shared.state import ServiceState, app_state


class EvaluationState(ServiceState, Protocol):
    settings: Settings


def evaluation_state(source: HTTPConnection | Any) -> EvaluationState:
    return cast("EvaluationState", app_state(source))
