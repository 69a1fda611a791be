"""薪酬 Payroll: a month's runs with their totals, one run's payslips beside last month's (who joined, who
left, whose pay changed and by which lines), approval and reversal (of an approved run not yet paid, county
level and above, with a reason) after a step-up confirmation (the password again), and a payslip that
prints cleanly. A township or county officer runs the month here too: a new run of a region and month,
calculated at once (other runs' workers refused or left out), calculated again or cancelled while not
approved, and marked paid after a step-up confirmation. The compensation service computes and checks
everything (C4–C9); a refusal is shown on the page it came from."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.account_names import account_names
from services.gateway.console.filters import CHINA, Region
from services.gateway.console.forms import ReasonField, Refusal, shown, submitted
from services.gateway.console.i18n import language_of
from services.gateway.console.render import page, redirect
from services.gateway.console.session import ConsoleUser, CsrfField, PasswordField, User, csrf_ok, signed_in
from services.gateway.console.upstream import Api, ApiError, ConsoleApi
from services.gateway.sign_in import step_up
from shared.auth import ADMIN_ROLES
from shared.db import SessionDep
from shared.problems import Problem

router = APIRouter()
MONTH = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
WITH_PAYSLIPS = ("calculated", "approved", "paid")
NOT_APPROVED = ("draft", "calculated", "failed")  # may be calculated again or cancelled
OverlapField = Annotated[str, Form(pattern="^(refuse|exclude)$")]


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def differences(current: list[dict[str, Any]], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per worker: joined (no payslip last month), left (none this month), or the lines whose amounts moved."""
    before = {p["worker_id"]: p for p in previous}
    now = {p["worker_id"]: p for p in current}
    rows: list[dict[str, Any]] = []
    for worker_id, slip in now.items():
        old = before.get(worker_id)
        if old is None:
            rows.append({"worker_id": worker_id, "name": slip["name"], "change": "joined", "gross": slip["gross"]})
            continue
        delta = Decimal(str(slip["gross"])) - Decimal(str(old["gross"]))
        if delta:
            old_lines = {line["kind"]: Decimal(str(line["amount"])) for line in old["lines"]}
            new_lines = {line["kind"]: Decimal(str(line["amount"])) for line in slip["lines"]}
            moved = sorted(k for k in old_lines.keys() | new_lines.keys() if old_lines.get(k) != new_lines.get(k))
            rows.append(
                {"worker_id": worker_id, "name": slip["name"], "change": "changed", "delta": delta, "lines": moved}
            )
    for worker_id, old in before.items():
        if worker_id not in now:
            rows.append({"worker_id": worker_id, "name": old["name"], "change": "left", "gross": old["gross"]})
    return rows


async def _payslips(api: ConsoleApi, run_id: str) -> list[dict[str, Any]]:
    slips: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        batch = await api.get("compensation", f"/payroll-runs/{run_id}/payslips", limit=500, after=after)
        slips.extend(batch)
        if len(batch) < 500:
            return slips
        after = batch[-1]["worker_id"]


@router.get("/console/payroll")
async def runs(
    request: Request,
    user: User,
    api: Api,
    region: Region,
    month: Annotated[str | None, Query(pattern=MONTH)] = None,
) -> HTMLResponse:
    return await _runs_page(request, user, api, region, month)


async def _runs_page(
    request: Request,
    user: ConsoleUser,
    api: ConsoleApi,
    region: str,
    month: str | None,
    refusal: Refusal | None = None,
) -> HTMLResponse:
    error: ApiError | None = None
    listing: list[dict[str, Any]] = []
    try:
        listing = (await api.get("compensation", "/payroll-runs", region_code=region, month=month, limit=200))["items"]
    except ApiError as exc:
        error = exc
    return page(
        request,
        "payroll.html",
        user,
        runs=listing,
        region=region,
        month=month or "",
        error=error,
        this_month=datetime.now(CHINA).strftime("%Y-%m"),
        **shown(refusal),
    )


@router.post("/console/payroll")
async def new_run(
    request: Request,
    user: User,
    api: Api,
    session: SessionDep,
    region: Annotated[str, Form(pattern=r"^[0-9]{6}([0-9]{6})?$")],
    month: Annotated[str, Form(pattern=MONTH)],
    overlap: OverlapField = "refuse",
    csrf: CsrfField = "",
) -> Response:
    """A run of the region and month, calculated at once: the run's page (with the calculation's refusal, if
    any: the run stays a draft to calculate again), or this page again with the creation's refusal."""
    body = {"region_code": region, "month": month}
    created = await submitted(request, csrf, lambda: api.post("compensation", "/payroll-runs", body))
    if isinstance(created, Refusal):
        return await _runs_page(request, user, api, region, month, created)
    calculate = f"/payroll-runs/{created['id']}/calculate"
    return await _run_act(request, user, api, session, created["id"], csrf, calculate, overlap=overlap)


async def _run_act(
    request: Request,
    user: ConsoleUser,
    api: ConsoleApi,
    session: SessionDep,
    run_id: str,
    csrf: str,
    path: str,
    **params: str,
) -> Response:
    """Post to the run's ``path`` (calculate, cancel): the run's page by a redirect, or in place with the refusal."""
    done = await submitted(request, csrf, lambda: api.post("compensation", path, params=params))
    if isinstance(done, Refusal):
        return await _run_page(request, user, api, session, run_id, done)
    return redirect(request, f"/console/payroll/{run_id}", user)


@router.post("/console/payroll/{run_id}/calculate")
async def calculate(
    request: Request,
    user: User,
    api: Api,
    session: SessionDep,
    run_id: uuid.UUID,
    overlap: OverlapField = "refuse",
    csrf: CsrfField = "",
) -> Response:
    """Calculate a run not yet approved again (the last calculation's lines replaced, C4–C9)."""
    path = f"/payroll-runs/{run_id}/calculate"
    return await _run_act(request, user, api, session, str(run_id), csrf, path, overlap=overlap)


@router.post("/console/payroll/{run_id}/cancel")
async def cancel(
    request: Request, user: User, api: Api, session: SessionDep, run_id: uuid.UUID, csrf: CsrfField = ""
) -> Response:
    """Cancel a run not yet approved: its lines go, its workers' month is free for another run."""
    return await _run_act(request, user, api, session, str(run_id), csrf, f"/payroll-runs/{run_id}/cancel")


@router.get("/console/payroll/{run_id}")
async def run(request: Request, user: User, api: Api, run_id: uuid.UUID, session: SessionDep) -> HTMLResponse:
    return await _run_page(request, user, api, session, str(run_id))


async def _run_page(
    request: Request,
    user: ConsoleUser,
    api: ConsoleApi,
    session: SessionDep,
    run_id: str,
    refusal: Refusal | None = None,
) -> HTMLResponse:
    detail = await api.get("compensation", f"/payroll-runs/{run_id}")
    slips = await _payslips(api, run_id) if detail["status"] in WITH_PAYSLIPS else []
    earlier = await api.get(
        "compensation", "/payroll-runs", region_code=detail["region_code"], month=previous_month(detail["month"])
    )
    live = [r for r in earlier["items"] if r["status"] in ("approved", "paid", "calculated")]
    previous = await _payslips(api, live[0]["id"]) if live else []
    changes = differences(slips, previous) if live else []
    # who approved and who reversed, by name: the gateway owns the accounts
    accounts = await account_names(
        session, [detail.get("calculated_by"), detail.get("approved_by"), detail.get("reversed_by")]
    )
    return page(
        request,
        "payroll_run.html",
        user,
        run=detail,
        slips=slips,
        changes=changes,
        compared=bool(live),
        can_reverse=bool(user.principal.roles & ADMIN_ROLES),
        not_approved=NOT_APPROVED,
        accounts=accounts,
        **shown(refusal),
    )


async def _stepped_up(request: Request, user: ConsoleUser, password: str) -> ConsoleApi | Problem:
    """The step-up confirmation (the password again, audited like a sign-in): an API client with the fresh
    token, or the refusal (a wrong password, a throttled account)."""
    user_id = uuid.UUID(user.principal.subject.removeprefix("user:"))
    try:
        fresh = await signed_in(request, step_up, user_id=user_id, password=password)
    except Problem as refused:  # the failed attempt is audited and throttled
        return refused
    return ConsoleApi(request, ConsoleUser(user.principal, fresh.access_token), language_of(request))


async def _confirmed(
    request: Request,
    user: ConsoleUser,
    run: dict[str, Any],
    act: str,
    password: str,
    csrf: str,
    body: dict[str, str] | None = None,
    *,
    missing: str | None = None,
    **shown: Any,
) -> Response:
    """Approve or reverse a run (``act``, with ``body``) after the step-up confirmation: the run's page, or
    ``payroll_<act>.html`` again with what stopped it (the form expired, a ``missing`` field, a wrong
    password, the compensation service's refusal)."""

    def again(status: int, error: str) -> HTMLResponse:
        return page(request, f"payroll_{act}.html", user, status_code=status, run=run, error=error, **shown)

    if not csrf_ok(request, csrf):
        return again(403, "csrf")
    if missing:
        return again(422, missing)
    confirmed = await _stepped_up(request, user, password)
    if isinstance(confirmed, Problem):
        return again(confirmed.status, "password")
    try:
        await confirmed.post("compensation", f"/payroll-runs/{run['id']}/{act}", body)
    except ApiError as exc:
        return again(exc.status, exc.detail)
    return redirect(request, f"/console/payroll/{run['id']}", user)


def _step_up_act(act: str, doc: str) -> None:
    """The confirmation page and the post of a step-up act on a run without a form of its own (approve, pay):
    ``payroll_<act>.html``, the password again, then the compensation service's ``…/<act>``."""

    async def confirm_page(request: Request, user: User, api: Api, run_id: uuid.UUID) -> HTMLResponse:
        detail = await api.get("compensation", f"/payroll-runs/{run_id}")
        return page(request, f"payroll_{act}.html", user, run=detail, error=None)

    async def confirmed(
        request: Request, user: User, api: Api, run_id: uuid.UUID, password: PasswordField = "", csrf: CsrfField = ""
    ) -> Response:
        detail = await api.get("compensation", f"/payroll-runs/{run_id}")
        return await _confirmed(request, user, detail, act, password, csrf)

    path = f"/console/payroll/{{run_id}}/{act}"
    router.add_api_route(path, confirm_page, methods=["GET"], name=f"confirm_{act}")
    router.add_api_route(path, confirmed, methods=["POST"], name=act, description=doc)


_step_up_act("approve", "Approve a calculated run (by another person than who calculated it: AC5).")
_step_up_act("pay", "Mark an approved run paid (the money has left: no reversal after it).")


@router.get("/console/payroll/{run_id}/reverse")
async def confirm_reversal(request: Request, user: User, api: Api, run_id: uuid.UUID) -> HTMLResponse:
    detail = await api.get("compensation", f"/payroll-runs/{run_id}")
    return page(request, "payroll_reverse.html", user, run=detail, error=None, reason="")


@router.post("/console/payroll/{run_id}/reverse")
async def reverse(
    request: Request,
    user: User,
    api: Api,
    run_id: uuid.UUID,
    reason: ReasonField = "",
    password: PasswordField = "",
    csrf: CsrfField = "",
) -> Response:
    """Reverse an approved run not yet paid after the step-up confirmation; the compensation service
    decides (county level and above; 409 for a paid run or one another run's corrections depend on)."""
    detail = await api.get("compensation", f"/payroll-runs/{run_id}")
    body = {"reason": reason.strip()}
    missing = None if body["reason"] else "reason"
    return await _confirmed(request, user, detail, "reverse", password, csrf, body, missing=missing, reason=reason)


@router.get("/console/payroll/{run_id}/payslips/{worker_id}")
async def payslip(request: Request, user: User, api: Api, run_id: uuid.UUID, worker_id: uuid.UUID) -> HTMLResponse:
    detail = await api.get("compensation", f"/payroll-runs/{run_id}")
    slips = [s for s in await _payslips(api, str(run_id)) if s["worker_id"] == str(worker_id)]
    if not slips:
        return page(request, "error.html", user, status_code=404, error=None)
    return page(request, "payslip.html", user, run=detail, slip=slips[0], printed=datetime.now(CHINA).date())
