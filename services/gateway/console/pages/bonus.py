"""绩效奖金 The performance bonus (C5) of a township and year: the allocation ledger (the live allocation and the
ones it replaced, with who, when and why) and, for the live allocation, each worker's share beside what
payroll runs pay of it — approved or paid, and held by a run not yet approved — and what is still to pay.
The compensation service shares the pool and pays it once (``bonus.py``, ``bonus_payouts.py``); the page
only reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.gateway.account_names import account_names
from services.gateway.console.filters import Region, YearAssessed
from services.gateway.console.render import page
from services.gateway.console.session import User
from services.gateway.console.upstream import Api, ApiError
from shared.db import SessionDep
from shared.money import CENT

router = APIRouter()
SETTLED = ("approved", "paid")


def worker_rows(live: dict[str, Any], payouts: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Per worker of the live allocation, and per worker paid earlier but no longer in it: the share, what
    approved and paid runs pay, what unapproved runs hold, and what is left to pay (negative: to take back)."""
    settled: dict[str, Decimal] = {}
    pending: dict[str, Decimal] = {}
    for payout in payouts:
        into = settled if payout["run_status"] in SETTLED else pending
        into[payout["worker_id"]] = into.get(payout["worker_id"], Decimal(0)) + Decimal(str(payout["amount"]))
    shares = {s["worker_id"]: s for s in live["shares"]}
    rows = []
    for worker_id in sorted(shares.keys() | settled.keys() | pending.keys(), key=lambda w: (names.get(w, w), w)):
        share = shares.get(worker_id)
        due = Decimal(str(share["share"])) if share else Decimal(0)
        paid, held = settled.get(worker_id, Decimal(0)), pending.get(worker_id, Decimal(0))
        rows.append(
            {
                "worker_id": worker_id,
                "name": names.get(worker_id, worker_id[:8]),
                "share": share,
                "paid": paid.quantize(CENT),
                "held": held.quantize(CENT),
                "left": (due - paid - held).quantize(CENT),
            }
        )
    return rows


@router.get("/console/bonus")
async def bonus(
    request: Request, user: User, api: Api, session: SessionDep, region: Region, year: YearAssessed
) -> HTMLResponse:
    error: ApiError | None = None
    townships: list[dict[str, Any]] = []
    township: str | None = None
    ledger: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    live: dict[str, Any] | None = None
    try:
        place = await api.get("roster", f"/regions/{region}")
        if place["level"] in ("township", "community"):
            township = place["code"] if place["level"] == "township" else place["parent_code"]
        else:  # a county or above: choose one of its townships
            townships = (await api.get("roster", f"/regions/{region}/descendants", level="township", limit=500))[
                "items"
            ]
        if township:
            ledger = await api.get("compensation", "/bonus-allocations", township_code=township, year=year)
            live = next((a for a in ledger if a["live"]), None)
            if live is not None:
                payouts = await api.get("compensation", f"/bonus-allocations/{live['id']}/payouts")
                workers = (await api.get("roster", "/workers", region=township, limit=500))["items"]
                rows = worker_rows(live, payouts, {w["id"]: w["name"] for w in workers})
    except ApiError as exc:
        error = exc
    # who allocated and who replaced, by name: the gateway owns the accounts
    accounts = await account_names(session, [s for a in ledger for s in (a["created_by"], a.get("reversed_by"))])
    return page(
        request,
        "bonus.html",
        user,
        region=region,
        year=year,
        township=township,
        townships=townships,
        ledger=ledger,
        live=live,
        rows=rows,
        error=error,
        accounts=accounts,
    )
