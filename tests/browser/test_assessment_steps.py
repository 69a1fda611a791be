"""A township's annual assessment run from the console in headless Chromium against the real suite: the
township officer opens 海门街道's 2024 cycle under the county's scheme (E1), is refused closing it before it is
scored (E2: the 422 and each worker's missing scores shown beside the button, the cycle still open), and
closes it once scored: every worker graded (E3), the distribution shown; the year's cycle open or closed,
opening it is no longer offered."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from services.evaluation.tests.conftest import NANHU_SCHEME
from tests.browser.conftest import (
    COUNTY_A,
    TOWNSHIP_A,
    WAIT,
    Demo,
    assert_stayed_local,
    click_and_load,
    screenshot,
    sign_in,
    wait_for,
)
from tests.browser.test_reversal_and_cycles import admin

pytestmark = pytest.mark.e2e

YEAR = 2024  # no other browser test assesses this year


def test_township_officer_opens_and_closes_the_years_assessment(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway, headers = demo.suite.gateway, admin(demo)
    evaluation = f"{gateway}/api/v1/evaluation"
    scheme = httpx.put(f"{evaluation}/schemes/{COUNTY_A}/{YEAR}", headers=headers, json=NANHU_SCHEME)
    assert scheme.status_code == 200, scheme.text
    workers = [w["id"] for w in demo.workers_a if w["community_code"].startswith(TOWNSHIP_A[:9])]
    sign_in(browser, gateway, demo.accounts.township_a)

    browser.get(f"{gateway}/console/assessment?region={TOWNSHIP_A}&year={YEAR}")
    wait_for(browser, "#open-cycle-card")
    click_and_load(browser, "open-cycle")
    wait_for(browser, "#close-cycle")
    listed = httpx.get(f"{evaluation}/cycles", headers=headers, params={"region": TOWNSHIP_A, "year": YEAR})
    (cycle,) = [c for c in listed.json()["items"] if c["township_code"] == TOWNSHIP_A and c["year"] == YEAR]
    assert cycle["status"] == "open"
    assert f"cycle={cycle['id']}" in browser.current_url

    # E2: not one score yet — refused, each worker's missing scores named, the cycle still open
    click_and_load(browser, "close-cycle")
    refused = wait_for(browser, "#cycle-error")
    assert "(422)" in refused.text
    assert "E2" in refused.text
    assert len(refused.find_elements(By.CSS_SELECTOR, ".field-errors li")) >= len(workers)
    assert httpx.get(f"{evaluation}/cycles/{cycle['id']}", headers=headers).json()["status"] == "open"
    screenshot(browser, "assessment-refused", tmp_path)

    entries = [
        {
            "worker_id": w,
            "rater_group": group,
            "score": "80",
            **({"panel_size": 60, "ordinary_share": "0.8"} if group == "residents" else {}),
        }
        for w in workers
        for group in ("township_cadres", "peers", "residents")
    ]
    scored = httpx.post(f"{evaluation}/cycles/{cycle['id']}/scores", headers=headers, json={"entries": entries})
    assert scored.status_code == 200, scored.text
    browser.get(f"{gateway}/console/assessment?region={TOWNSHIP_A}&year={YEAR}&cycle={cycle['id']}")
    click_and_load(browser, "close-cycle")
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(WebDriverException,))
    wait.until(lambda d: not d.find_elements(By.ID, "close-cycle") and d.find_elements(By.ID, "cycle"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#cycle tbody tr")
    counts = {
        r.find_elements(By.CSS_SELECTOR, "td")[0].text: r.find_elements(By.CSS_SELECTOR, "td")[1].text for r in rows
    }
    assert counts["合格"] == str(len(workers))  # 80 points under every group: 合格 (E3)
    results = httpx.get(f"{evaluation}/cycles/{cycle['id']}/results", headers=headers).json()
    assert len(results) == len(workers)

    # E1: one cycle per township and year — the year's cycle exists, opening is no longer offered
    browser.get(f"{gateway}/console/assessment?region={TOWNSHIP_A}&year={YEAR}")
    wait_for(browser, "#cycle-choice")
    assert not browser.find_elements(By.ID, "open-cycle-card")
    assert_stayed_local(browser)
