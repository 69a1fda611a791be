"""薪酬达标 Pay against the policy: per county and year, the average annual pay per worker (approved
payslips, without the employer's parts, C1) beside the target — C2 (Wenzhou: a multiple of disposable
income) or C3 (Taizhou: the average wage, with floors per post) — as computed by the compensation
service's report, drawn with ECharts from a local script (the data ride in a ``data-`` attribute)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.gateway.console.filters import Region, Year
from services.gateway.console.i18n import language_of, translator
from services.gateway.console.render import page
from services.gateway.console.session import User
from services.gateway.console.upstream import Api, ApiError

router = APIRouter()
POSTS = {"chief": "书记（主任）", "deputy": "副职", "staff": "社工"}


def _chart(reports: list[dict[str, Any]], t: Callable[[str, str], str]) -> dict[str, Any]:
    """Bars of actual pay, a marker for the target: per county and post where the target is C3's floors
    per post (Taizhou), per county against C2's average (Wenzhou) otherwise."""
    labels, actual, target = [], [], []
    for report in reports:
        floors = (report.get("target") or {}).get("post_floors")
        if floors:
            for post, pay in sorted(report["posts"].items()):
                labels.append(f"{report['name']} · {t(POSTS.get(post, post), post)}")
                actual.append(str(pay["average_annual_pay"]))
                target.append(str(floors.get(post, "")))
        else:
            labels.append(report["name"])
            actual.append(str(report["average_annual_pay"]))
            target.append(str((report.get("target") or {}).get("target_average") or ""))
    return {
        "title": t("年平均工资与政策目标", "Average annual pay against the policy target"),
        "counties": labels,
        "series": [
            {"name": t("年平均工资", "Average annual pay"), "values": actual},
            {"name": t("政策目标（C2/C3）", "Policy target (C2/C3)"), "values": target},
        ],
    }


@router.get("/console/pay")
async def pay_against_policy(
    request: Request,
    user: User,
    api: Api,
    region: Region,
    year: Year,
) -> HTMLResponse:
    language = language_of(request)
    error: ApiError | None = None
    reports: list[dict[str, Any]] = []
    try:
        place = await api.get("roster", f"/regions/{region}")
        counties = [place]
        if place["level"] in ("province", "city"):  # one bar per county below
            counties = (await api.get("roster", f"/regions/{region}/descendants", level="county", limit=500))["items"]
        for county in counties:
            try:
                report = await api.get("compensation", "/reports/pay-compliance", region=county["code"], year=year)
            except ApiError as exc:
                if exc.status != 404:  # a county without a target or payslips is left out
                    raise
                continue
            reports.append({"name": county["name"], **report})
    except ApiError as exc:
        error = exc
    chart = json.dumps(_chart(reports, translator(language)))
    return page(request, "pay.html", user, region=region, year=year, reports=reports, chart=chart, error=error)
