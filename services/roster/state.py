"""The roster app's state, typed (``shared.state`` plus its own settings)."""

from __future__ import annotations

from typing import Any, Protocol, cast

from starlette.requests import HTTPConnection

from services.roster.settings import Settings
from shared.state import ServiceState, app_state


class RosterState(ServiceState, Protocol):
    settings: Settings


def roster_state(source: HTTPConnection | Any) -> RosterState:
    return cast("RosterState", app_state(source))


def id_number_secret(source: HTTPConnection | Any) -> bytes:
    """The secret of the keyed hash that finds a person by ID number."""
    return roster_state(source).settings.id_number_hash_key.get_secret_value().encode()
