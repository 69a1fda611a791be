"""The console's performance-bonus page (C5) in headless Chromium against the real suite: county A's township
海门街道 assessed for 2025 through the evaluation service (a cycle scored and closed; the grades reach the
compensation service by its feed), the county's coefficients set and the township's pool allocated through
the API; a county officer finds the township from the county, reads the ledger and every worker's share,
grade (the services' labels) and what is still to pay; another county's officer sees none of it."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By

from tests.browser.conftest import (
    COUNTY_A,
    PASSWORD,
    TOWNSHIP_A,
    Demo,
    _eventually,
    assert_stayed_local,
    click_and_load,
    screenshot,
    sign_in,
    wait_for,
)
from tests.browser.test_reversal_and_cycles import admin

pytestmark = pytest.mark.e2e

YEAR = 2025
POOL = "66000.00"
COEFFICIENTS = {"excellent": "1.2", "competent": "1.0", "basically_competent": "0.8", "incompetent": "0"}


def assessed_and_allocated(demo: Demo) -> dict[str, Any]:
    """海门街道's 2025 cycle scored for every worker (E1, the demo scheme) and closed, the county's coefficients,
    and the township's allocation once every grade has reached the compensation service."""
    gateway, headers = demo.suite.gateway, admin(demo)
    evaluation, pay = f"{gateway}/api/v1/evaluation", f"{gateway}/api/v1/compensation"
    workers = [w["id"] for w in demo.workers_a if w["community_code"].startswith(TOWNSHIP_A[:9])]
    opened = httpx.post(f"{evaluation}/cycles", headers=headers, json={"township_code": TOWNSHIP_A, "year": YEAR})
    assert opened.status_code in (201, 409), opened.text  # another test may have opened it
    listed = httpx.get(f"{evaluation}/cycles", headers=headers, params={"region": TOWNSHIP_A, "year": YEAR})
    (cycle,) = [c for c in listed.json()["items"] if c["township_code"] == TOWNSHIP_A]
    if cycle["status"] == "open":
        scores = ["95", "92", "85"] + ["80"] * (len(workers) - 5) + ["65", "50"]
        entries = [
            {
                "worker_id": w,
                "rater_group": group,
                "score": score,
                **({"panel_size": 60, "ordinary_share": "0.8"} if group == "residents" else {}),
            }
            for w, score in zip(workers, scores, strict=True)
            for group in ("township_cadres", "peers", "residents")
        ]
        scored = httpx.post(f"{evaluation}/cycles/{cycle['id']}/scores", headers=headers, json={"entries": entries})
        assert scored.status_code == 200, scored.text
        closed = httpx.post(f"{evaluation}/cycles/{cycle['id']}/close", headers=headers)
        assert closed.status_code == 200, closed.text
    profile = httpx.put(
        f"{pay}/policy-profiles/{COUNTY_A}/{YEAR}",
        headers=headers,
        json={"parameters": {"bonus_coefficients": COEFFICIENTS}, "sources": {"bonus_coefficients": "示例办法"}},
    )
    assert profile.status_code == 200, profile.text

    def allocation() -> dict[str, Any] | None:
        # Once per township and year (C5), and only once the township's closed cycle (every grade) has reached
        # payroll: 409 without an allocation until then; another test of the session may have allocated it.
        body = {"township_code": TOWNSHIP_A, "year": YEAR, "pool": POOL}
        response = httpx.post(f"{pay}/bonus-allocations", headers=headers, json=body)
        if response.status_code == 409 and "allocation_id" not in response.json():
            return None
        if response.status_code == 409:
            live = response.json()["allocation_id"]
            return dict(httpx.get(f"{pay}/bonus-allocations/{live}", headers=headers).json())
        assert response.status_code == 201, response.text
        allocated: dict[str, Any] = response.json()
        assert len(allocated["shares"]) == len(workers)  # every grade of the cycle, at the first allocation
        return allocated

    found: dict[str, Any] = _eventually(allocation)
    return found


def test_county_officer_reads_a_townships_bonus_ledger_and_shares(
    demo: Demo, browser: WebDriver, tmp_path: Path
) -> None:
    live = assessed_and_allocated(demo)
    assert sum(Decimal(s["share"]) for s in live["shares"]) == Decimal(POOL)
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/bonus?region={COUNTY_A}&year={YEAR}")
    wait_for(browser, "#townships")
    browser.find_element(By.CSS_SELECTOR, f"#townships a[href*='{TOWNSHIP_A}']").click()
    ledger = wait_for(browser, "#ledger")
    assert live["id"][:8] in ledger.text
    assert POOL in ledger.text
    assert "admin" in ledger.text  # who allocated, by the account's name (the gateway's accounts)
    assert "user:" not in ledger.text
    rows = browser.find_elements(By.CSS_SELECTOR, "#shares tbody tr")
    assert len(rows) == len(live["shares"])
    names = {w["id"]: w["name"] for w in demo.workers_a}
    table = browser.find_element(By.ID, "shares").text
    for share in live["shares"]:
        assert names[share["worker_id"]] in table
        assert share["share"] in table
    assert "合格" in table  # the evaluation's grade, labelled by the service (E3)
    still = [row.find_elements(By.CSS_SELECTOR, "td")[-1].text for row in rows]
    shares = [row.find_elements(By.CSS_SELECTOR, "td")[4].text for row in rows]
    assert still == shares  # no run has paid it yet: each share is still to pay
    screenshot(browser, "bonus", tmp_path)
    assert_stayed_local(browser)


def test_county_officer_replaces_the_allocation_and_sees_a_refusal_in_place(
    demo: Demo, browser: WebDriver, tmp_path: Path
) -> None:
    """C5 from the console: a year nobody of the township was assessed cannot be shared (422 shown beside the
    form, the pool typed kept, nothing allocated); the live allocation is replaced with a new pool and a
    reason, the old one stays in the ledger, reversed, and the new shares add up to the new pool."""
    live = assessed_and_allocated(demo)
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)

    browser.get(f"{gateway}/console/bonus?region={TOWNSHIP_A}&year={YEAR - 3}")
    wait_for(browser, "#allocate-card")
    browser.find_element(By.ID, "bonus-pool").send_keys("50000.00")
    click_and_load(browser, "allocate")
    refused = wait_for(browser, "#allocate-error")
    assert "(422)" in refused.text
    assert "C5" in refused.text  # the rule the refusal names
    assert browser.find_element(By.ID, "bonus-pool").get_attribute("value") == "50000.00"
    assert "尚未分配" in browser.find_element(By.ID, "ledger").text
    screenshot(browser, "bonus-refused", tmp_path)

    browser.get(f"{gateway}/console/bonus?region={TOWNSHIP_A}&year={YEAR}")
    pool = wait_for(browser, "#bonus-pool")
    assert pool.get_attribute("value") == live["pool"]  # the live pool, to be changed
    pool.clear()
    pool.send_keys("72000.00")
    browser.find_element(By.ID, "bonus-reason").send_keys("县里追加奖金 the county added to the pool")
    click_and_load(browser, "replace-allocation")
    wait_for(browser, "#shares")
    ledger = browser.find_elements(By.CSS_SELECTOR, "#ledger tbody tr")
    assert "72000.00" in ledger[-1].text  # the live one last
    assert "有效" in ledger[-1].text
    assert live["id"][:8] in browser.find_element(By.ID, "ledger").text  # the replaced one kept, reversed
    assert "县里追加奖金" in ledger[-1].text
    shares = [
        row.find_elements(By.CSS_SELECTOR, "td")[4].text
        for row in browser.find_elements(By.CSS_SELECTOR, "#shares tbody tr")
    ]
    assert sum(Decimal(s) for s in shares) == Decimal("72000.00")
    screenshot(browser, "bonus-replaced", tmp_path)
    assert_stayed_local(browser)


def test_another_countys_officer_sees_no_bonus_of_the_township(demo: Demo, browser: WebDriver) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_b)
    browser.get(f"{gateway}/console/bonus?region={TOWNSHIP_A}&year={YEAR}")
    wait_for(browser, "main")
    assert not browser.find_elements(By.ID, "ledger")
    assert not browser.find_elements(By.ID, "shares")
    assert browser.find_elements(By.CSS_SELECTOR, "[role=alert]") or "404" in browser.page_source


def test_a_bonus_form_posted_without_the_pages_csrf_token_allocates_nothing(demo: Demo) -> None:
    """The allocation form is a double-submit form like every console form: a post another site forges (the
    session cookie sent, the token not) is refused with 403 and nothing reaches the compensation service."""
    gateway, year = demo.suite.gateway, YEAR - 4
    with httpx.Client(base_url=gateway) as client:
        form = client.get("/console/sign-in")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        signed_in = client.post(
            "/console/sign-in",
            data={"username": demo.accounts.county_a, "password": PASSWORD, "csrf": token.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        forged = client.post(
            "/console/bonus/allocations",
            data={"township": TOWNSHIP_A, "year": str(year), "pool": "1000.00", "csrf": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "页面已过期" in forged.text
    ledger = httpx.get(
        f"{gateway}/api/v1/compensation/bonus-allocations",
        headers=admin(demo),
        params={"township_code": TOWNSHIP_A, "year": year},
    )
    assert ledger.status_code == 200
    assert ledger.json() == []
