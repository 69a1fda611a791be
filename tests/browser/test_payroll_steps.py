"""The month's payroll run from the console in headless Chromium against the real suite: a township officer
creates and calculates the township's run of a month (22 demo workers), cancels it, runs it again; a county
run of the same month is refused while the township's run holds its workers (409 shown on the run's page,
the run left a draft) and calculated leaving them out (the covering run listed); the township's run is
approved by the county's officer — not by the township officer who calculated it (separation of duties) —
and marked paid, each after the password again (a wrong one changes nothing)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import (
    COUNTY_A,
    PASSWORD,
    TOWNSHIP_A,
    WAIT,
    Demo,
    assert_stayed_local,
    click_and_load,
    screenshot,
    sign_in,
    wait_for,
)
from tests.browser.test_reversal_and_cycles import admin, run_status

pytestmark = pytest.mark.e2e

MONTH = "2026-09"  # no other browser test runs this month


def new_run(browser: WebDriver, gateway: str, region: str, overlap: str = "refuse") -> None:
    browser.get(f"{gateway}/console/payroll?region={region}")
    wait_for(browser, "#new-run-card")
    month = browser.find_element(By.ID, "new-run-month")
    browser.execute_script("arguments[0].value = arguments[1]", month, MONTH)  # a month input types by locale
    region_field = browser.find_element(By.ID, "new-run-region")
    region_field.clear()
    region_field.send_keys(region)
    Select(browser.find_element(By.ID, "new-run-overlap")).select_by_value(overlap)
    click_and_load(browser, "new-run")


def status_is(browser: WebDriver, label: str) -> None:
    """Wait for the run's page to show ``label``."""
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=(WebDriverException,))
    wait.until(lambda d: d.find_element(By.ID, "run-status").text == label)


def confirm(browser: WebDriver, button: str, password: str) -> None:
    field = wait_for(browser, "#confirm-password")
    field.clear()
    field.send_keys(password)
    click_and_load(browser, button)


def test_township_officer_runs_the_month_from_the_console(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.township_a)

    # a run of the township and month, calculated at once (C4–C9); cancelled, its month is free again
    new_run(browser, gateway, TOWNSHIP_A)
    status_is(browser, "已核算")
    first = browser.current_url.rsplit("/", 1)[-1]
    assert run_status(demo, first)["workers"] == 22
    assert len(browser.find_elements(By.CSS_SELECTOR, "#payslips tbody tr")) == 22
    click_and_load(browser, "cancel-run")
    status_is(browser, "已撤销")
    assert not browser.find_elements(By.ID, "run-actions")  # nothing more to do with a cancelled run
    new_run(browser, gateway, TOWNSHIP_A)
    status_is(browser, "已核算")
    township_run = browser.current_url.rsplit("/", 1)[-1]
    assert township_run != first
    assert run_status(demo, township_run)["workers"] == 22
    # 不相容职务分离: who calculated it does not approve it — the service's refusal on the approval page
    click_and_load(browser, "approve")
    confirm(browser, "confirm-approve", PASSWORD)
    assert "不相容职务分离" in wait_for(browser, ".alert").text
    assert run_status(demo, township_run)["status"] == "calculated"

    # the county's run of the month: its workers are the township run's (a worker-month is paid once)
    sign_in(browser, gateway, demo.accounts.county_a)
    new_run(browser, gateway, COUNTY_A)
    refused = wait_for(browser, "#run-error")
    assert "(409)" in refused.text
    screenshot(browser, "payroll-refused", tmp_path)
    # the refusal is shown in place (the address is still the form's): the run made is the county's draft
    listed = httpx.get(
        f"{gateway}/api/v1/compensation/payroll-runs",
        headers=admin(demo),
        params={"region_code": COUNTY_A, "month": MONTH},
    ).json()["items"]
    (county_run,) = [r["id"] for r in listed if r["region_code"] == COUNTY_A]
    assert run_status(demo, county_run)["status"] == "draft"
    assert wait_for(browser, "#run-status").text == "草稿"
    Select(browser.find_element(By.ID, "calculate-overlap")).select_by_value("exclude")
    click_and_load(browser, "calculate")
    status_is(browser, "已核算")
    excluded = wait_for(browser, "#excluded")
    assert TOWNSHIP_A in excluded.text
    elsewhere = [w for w in demo.workers_a if not w["community_code"].startswith(TOWNSHIP_A[:9])]
    assert run_status(demo, county_run)["workers"] == len(elsewhere)  # the county's other townships only
    screenshot(browser, "payroll-excluded", tmp_path)
    click_and_load(browser, "cancel-run")
    status_is(browser, "已撤销")

    # approved by the county's officer, then marked paid: each after the password again
    browser.get(f"{gateway}/console/payroll/{township_run}")
    assert "township-a-" in wait_for(browser, "#calculation").text  # who calculated it, by name
    click_and_load(browser, "approve")
    confirm(browser, "confirm-approve", PASSWORD)
    status_is(browser, "已审批")
    click_and_load(browser, "pay")
    confirm(browser, "confirm-pay", "not the password")
    assert "密码错误" in wait_for(browser, ".alert").text
    assert run_status(demo, township_run)["status"] == "approved"
    confirm(browser, "confirm-pay", PASSWORD)
    status_is(browser, "已发放")
    assert run_status(demo, township_run)["status"] == "paid"
    assert not browser.find_elements(By.ID, "reverse")  # a paid run is not reversed
    assert not browser.find_elements(By.ID, "pay")
    assert_stayed_local(browser)
