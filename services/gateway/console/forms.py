"""A console form that changes something: the CSRF check, then one call to a service; what it did, or why
not (:class:`Refusal`: the form expired, or the service's problem) for the page to show beside the form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Form, Request

from services.gateway.console.session import csrf_ok
from services.gateway.console.upstream import ApiError

T = TypeVar("T")
TownshipField = Annotated[str, Form(pattern=r"^[0-9]{12}$")]
"""A form's township code (12 digits; the service checks it is a township the user may change)."""
YearField = Annotated[int, Form(ge=2000, le=2100)]
ReasonField = Annotated[str, Form(max_length=300)]
"""Why a record is changed (a replacement, a reversal): kept with it; the service requires it."""


@dataclass(frozen=True)
class Refusal:
    """Why a form changed nothing: ``problem`` is ``"csrf"`` (the form expired: 403) or the service's problem
    (its status); the page shows it in place, with what was typed."""

    status: int
    problem: ApiError | str


async def submitted(request: Request, csrf: str, call: Callable[[], Awaitable[T]]) -> T | Refusal:
    """``call``'s answer when the form's CSRF token is good and the service accepts; else the refusal."""
    if not csrf_ok(request, csrf):
        return Refusal(403, "csrf")
    try:
        return await call()
    except ApiError as exc:
        return Refusal(exc.status, exc)


def shown(refusal: Refusal | None) -> dict[str, Any]:
    """The page's status and the template's ``refused`` (``"csrf"``, the service's problem, or None)."""
    if refusal is None:
        return {"status_code": 200, "refused": None}
    return {"status_code": refusal.status, "refused": refusal.problem}
