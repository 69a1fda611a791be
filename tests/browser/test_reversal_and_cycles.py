"""The console's payroll reversal and assessment cycle list (issue #14) in headless Chromium against the real
suite: a county officer reverses an approved run after the step-up confirmation (a wrong password changes
nothing; the reason, who and when are shown; the month is free again), a paid run is refused with the
service's bilingual 409, a township officer is not offered the reversal; the assessment page lists the
region's cycles to choose from, and another county's officer sees none of them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import bearer
from tests.browser.conftest import (
    COUNTY_A,
    LAST_MONTH,
    PASSWORD,
    TOWNSHIP_A,
    WAIT,
    Demo,
    assert_stayed_local,
    screenshot,
    sign_in,
    wait_for,
)
from tests.e2e.conftest import ADMIN_PASSWORD, token_for

pytestmark = pytest.mark.e2e


def admin(demo: Demo) -> dict[str, str]:
    return bearer(token_for(demo.suite, "admin", ADMIN_PASSWORD)["access_token"])


def approved_run(demo: Demo, month: str) -> dict[str, Any]:
    """A township run of county A for ``month``, calculated (all 22 demo workers) and approved."""
    pay, headers = f"{demo.suite.gateway}/api/v1/compensation", admin(demo)
    created = httpx.post(f"{pay}/payroll-runs", headers=headers, json={"region_code": TOWNSHIP_A, "month": month})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = httpx.post(f"{pay}/payroll-runs/{run_id}/calculate", headers=headers).json()
        if body.get("workers") == 22 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert body.get("workers") == 22, body
    reviewer = bearer(token_for(demo.suite, demo.accounts.county_a, PASSWORD)["access_token"])  # not who calculated
    approved = httpx.post(f"{pay}/payroll-runs/{run_id}/approve", headers=reviewer)
    assert approved.status_code == 200, approved.text
    result: dict[str, Any] = approved.json()
    return result


def run_status(demo: Demo, run_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(
        f"{demo.suite.gateway}/api/v1/compensation/payroll-runs/{run_id}", headers=admin(demo)
    ).json()
    return body


def test_county_officer_reverses_an_approved_run_after_step_up(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    run = approved_run(demo, "2026-07")
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/payroll/{run['id']}")
    assert wait_for(browser, "#run-status").text == "已审批"
    browser.find_element(By.ID, "reverse").click()
    wait_for(browser, "#reverse-reason").send_keys("七月职级数据有误，重新核算")
    browser.find_element(By.ID, "confirm-password").send_keys("not the password")
    browser.find_element(By.ID, "confirm-reverse").click()
    assert "密码错误" in wait_for(browser, ".alert").text  # no reversal without the password again
    assert run_status(demo, run["id"])["status"] == "approved"
    screenshot(browser, "payroll-reverse", tmp_path)
    browser.find_element(By.ID, "confirm-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "confirm-reverse").click()
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "run-status").text == "已冲销")
    reversal = browser.find_element(By.ID, "reversal").text
    assert "七月职级数据有误" in reversal
    assert demo.accounts.county_a in reversal
    assert "user:" not in reversal
    assert not browser.find_elements(By.ID, "reverse")  # once is all
    assert not browser.find_elements(By.CSS_SELECTOR, "#payslips tbody tr")  # its payslips are withdrawn
    reversed_run = run_status(demo, run["id"])
    assert reversed_run["status"] == "reversed"
    assert reversed_run["reversed_by"].startswith("user:")
    # the month is free: a new run of it pays the same 22 workers
    again = approved_run(demo, "2026-07")
    assert again["workers"] == 22
    assert_stayed_local(browser)


def test_a_paid_run_is_not_reversed_and_a_township_officer_is_not_offered_it(demo: Demo, browser: WebDriver) -> None:
    gateway = demo.suite.gateway
    run = approved_run(demo, "2026-08")
    paid = httpx.post(f"{gateway}/api/v1/compensation/payroll-runs/{run['id']}/pay", headers=admin(demo))
    assert paid.status_code == 200, paid.text
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/payroll/{run['id']}")
    assert wait_for(browser, "#run-status").text == "已发放"
    assert not browser.find_elements(By.ID, "reverse")
    browser.get(f"{gateway}/console/payroll/{run['id']}/reverse")  # the form reached by its address
    wait_for(browser, "#reverse-reason").send_keys("试图冲销已发放批次")
    browser.find_element(By.ID, "confirm-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "confirm-reverse").click()
    refusal = wait_for(browser, "#reverse-error").text
    assert "不能冲销" in refusal
    assert "paid" in refusal
    assert run_status(demo, run["id"])["status"] == "paid"
    sign_in(browser, gateway, demo.accounts.township_a)
    last = run_status(demo, demo.runs[LAST_MONTH]["id"])
    assert last["status"] == "approved"
    browser.get(f"{gateway}/console/payroll/{last['id']}")
    assert wait_for(browser, "#run-status").text == "已审批"
    assert not browser.find_elements(By.ID, "reverse")  # county level and above only
    assert_stayed_local(browser)


def test_assessment_page_lists_the_regions_cycles_to_choose_from(
    demo: Demo, browser: WebDriver, tmp_path: Path
) -> None:
    gateway = demo.suite.gateway
    opened = httpx.post(
        f"{gateway}/api/v1/evaluation/cycles", headers=admin(demo), json={"township_code": TOWNSHIP_A, "year": 2025}
    )
    assert opened.status_code in (201, 409), opened.text  # the demo scheme of 2025 (E1)
    sign_in(browser, gateway, demo.accounts.county_b)
    browser.get(f"{gateway}/console/assessment")
    wait_for(browser, "#cycle-choice")
    assert TOWNSHIP_A not in browser.find_element(By.ID, "cycle-choice").text  # another county's cycle
    assert browser.find_elements(By.ID, "no-cycles")
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/assessment?region={COUNTY_A}&year=2025")
    choice = Select(wait_for(browser, "#cycle-choice"))
    # the township's 2025 cycle among the county's (another test of the session may assess other years)
    (label,) = [o.text for o in choice.options if TOWNSHIP_A in o.text and o.text.startswith("2025")]
    choice.select_by_visible_text(label)
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    section = wait_for(browser, "#cycle")
    assert f"{TOWNSHIP_A} 2025" in section.text
    assert Select(browser.find_element(By.ID, "cycle-choice")).first_selected_option.text == label
    screenshot(browser, "assessment-cycle", tmp_path)
    assert_stayed_local(browser)
