"""Bulk import end to end (issue #13), through the gateway: a generated county (黄岩区 331003, which no other
test uses), its tree by the regions import and its workers as a CSV, imported in the background; its
workers appear with their real hire dates and statuses, the compensation projection picks them up from
the roster's feed and a payroll run for this month pays them; the export in the import format gives back
the uploaded rows; the same file again is not loaded twice."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import bearer
from deploy import generate
from services.roster.workforce_format import COLUMNS
from shared.business_time import business_today
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, token_for

pytestmark = pytest.mark.e2e
COUNTY = "331003"
KEYS = [c.key for c in COLUMNS]


def eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: {result!r}")
        time.sleep(0.3)


def rows_of(content: bytes) -> list[dict[str, str]]:
    """The data rows of a CSV in the workforce format (the two header rows off), by column key."""
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return [dict(zip(KEYS, line, strict=True)) for line in lines[2:]]


def test_generated_county_imported_paid_and_exported_in_the_same_format(suite: Suite, tmp_path: Path) -> None:
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    roster, pay = (f"{suite.gateway}/api/v1/{s}" for s in ("roster", "compensation"))
    files = generate.write(tmp_path, seed=7, workers=100, xlsx=False, counties=[COUNTY])
    # The tree by the regions import (good rows: the province and the city may be there already).
    tree = httpx.post(
        f"{roster}/imports",
        headers=admin,
        params={"kind": "regions", "mode": "good_rows", "region": "330000"},
        files={"file": ("regions.csv", files["regions"].read_bytes(), "text/csv")},
    )
    assert tree.status_code == 202, tree.text
    tree_url = f"{roster}/imports/{tree.json()['id']}"

    def tree_done() -> dict[str, Any] | None:
        job: dict[str, Any] = httpx.get(tree_url, headers=admin).json()
        return job if job["finished_at"] else None

    regions = eventually(tree_done)
    assert regions["status"] == "succeeded", regions
    assert {e["value"] for e in regions["errors"]} <= {"330000", "331000"}  # already in the tree
    assert regions["rows_loaded"] + regions["error_count"] == regions["rows_total"]
    today = business_today()
    with files["quotas"].open(encoding="utf-8") as f:
        for quota in csv.DictReader(f):
            put = httpx.put(
                f"{roster}/quotas/{quota['county_code']}/{quota['year']}",
                headers=admin,
                json={"headcount": int(quota["headcount"])},
            )
            assert put.status_code == 200, put.text
    content = files["workforce_csv"].read_bytes()

    uploaded = httpx.post(
        f"{roster}/imports",
        headers=admin,
        params={"kind": "workforce", "region": COUNTY},
        files={"file": ("黄岩区.csv", content, "text/csv")},
        timeout=30,
    )
    assert uploaded.status_code == 202, uploaded.text
    job_url = f"{roster}/imports/{uploaded.json()['id']}"

    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = httpx.get(job_url, headers=admin).json()
        return job if job["finished_at"] else None

    job = eventually(finished)
    assert job["status"] == "succeeded", job
    assert (job["rows_total"], job["rows_loaded"], job["error_count"]) == (100, 100, 0)

    # The same bytes again: answered with the job, nothing loaded twice.
    again = httpx.post(
        f"{roster}/imports",
        headers=admin,
        params={"kind": "workforce", "region": COUNTY},
        files={"file": ("again.csv", content, "text/csv")},
    )
    assert again.status_code == 200
    assert again.json()["duplicate_of"] == job["id"]

    # Real hire dates and statuses (a worker hired years ago is not on probation).
    generated = rows_of(content)
    listed = httpx.get(f"{roster}/workers", headers=admin, params={"region": COUNTY, "limit": 500}).json()["items"]
    assert len(listed) == 100
    statuses = {"在岗": "active", "试用期": "probation", "离职": "left"}
    by_name_and_hire = {(w["name"], w["hire_date"]): w["status"] for w in listed}
    assert sorted(by_name_and_hire.values()) == sorted(statuses[r["status"]] for r in generated)
    assert {(r["name"], r["hire_date"]) for r in generated} == set(by_name_and_hire)

    # Compensation: a scale for the county, a run for this month pays every worker employed in it.
    cells = [
        {"post": p, "grade": g, "annual_amount": str(base + 3000 * g)}
        for p, base in (("chief", 100000), ("deputy", 90000), ("staff", 78000))
        for g in range(1, 19)
    ]
    scale = httpx.put(f"{pay}/pay-scales/{COUNTY}/{today.year}", headers=admin, json={"cells": cells})
    assert scale.status_code == 200, scale.text
    month_start = today.replace(day=1)
    employed = [
        r
        for r in generated
        if date.fromisoformat(r["hire_date"]) <= today
        and (not r["left_date"] or date.fromisoformat(r["left_date"]) >= month_start)
    ]
    created = httpx.post(f"{pay}/payroll-runs", headers=admin, json={"region_code": COUNTY, "month": f"{today:%Y-%m}"})
    assert created.status_code == 201, created.text

    def calculated() -> dict[str, Any] | None:
        body: dict[str, Any] = httpx.post(
            f"{pay}/payroll-runs/{created.json()['id']}/calculate", headers=admin, timeout=30
        ).json()
        return body if body.get("workers") == len(employed) else None

    run = eventually(calculated)
    gross = Decimal(run["gross_total"])  # money is a decimal string, exact to the cent
    assert gross > 0
    assert gross == gross.quantize(Decimal("0.01"))

    # The export is the import format, the same rows (the admin holds the personal-data right).
    exported = httpx.get(f"{roster}/workforce.csv", headers=admin, params={"region": COUNTY})
    assert exported.status_code == 200
    back = rows_of(exported.content)

    def comparable(row: dict[str, str]) -> tuple[str, ...]:
        return tuple(v for k, v in row.items() if k != "community_name")  # the generator leaves names to the tree

    assert sorted(map(comparable, back)) == sorted(map(comparable, generated))
    assert all(r["community_name"] for r in back)
