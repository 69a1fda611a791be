"""The console's import page (导入) against the import APIs (issue #13): a county officer uploads a
workforce CSV with one bad row, follows the job to its end, reads the bad cell with its rule in the
page, and downloads the error report; then a reference statistics file, which the page sends to the
compensation service, and follows it to success."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from services.roster.tests.conftest import id_number
from tests.browser.conftest import COUNTY_A, Demo, assert_stayed_local, screenshot, sign_in, wait_for

pytestmark = pytest.mark.e2e
GOOD_ID = id_number(90, region=COUNTY_A)  # check digit right (GB 11643)
BAD_ID = GOOD_ID[:-1] + ("1" if GOOD_ID[-1] != "1" else "2")  # and wrong


def workforce_csv() -> bytes:
    """The workforce format: Chinese headers, then the English names, data from row 3."""
    rows = [
        "身份证号,姓名,社区代码,入职日期",
        "id_number,name,community_code,hire_date",
        f"{GOOD_ID},导入甲,{COUNTY_A}001001,2026-01-05",
        f"{BAD_ID},导入乙,{COUNTY_A}001001,2026-01-05",
    ]
    return ("\n".join(rows) + "\n").encode("utf-8")


def test_upload_with_a_bad_row_shows_its_error_and_the_report(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/imports")
    upload = tmp_path / "workforce.csv"
    upload.write_bytes(workforce_csv())
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "upload").click()
    status = wait_for(browser, "#job-status")
    # htmx polls the job until it ends: all or nothing, so one bad row rejects the file. htmx swaps the status
    # element as it polls: an element found just before a swap is stale, so look again (not a failure).
    WebDriverWait(browser, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, "job-status").get_attribute("data-status") in ("rejected", "failed")
    )
    assert status is not None
    errors = wait_for(browser, "#import-errors").text
    assert "4" in errors.split("\n")[1]  # the second data row is row 4 of the sheet
    assert "身份证号" in errors
    assert BAD_ID in errors
    screenshot(browser, "import", tmp_path)
    report = browser.find_element(By.PARTIAL_LINK_TEXT, "下载错误报告").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    download = httpx.get(str(report), cookies=cookies)
    assert download.status_code == 200
    assert download.content[:2] == b"PK"  # an .xlsx

    # Another kind goes to the service that imports it: reference statistics to compensation (C2, C3).
    browser.get(f"{gateway}/console/imports")
    Select(browser.find_element(By.ID, "kind")).select_by_value("statistics")
    statistics = tmp_path / "statistics.csv"
    statistics.write_bytes(
        f"区划代码,年度,指标,数值（元）,来源\n{COUNTY_A},2025,城镇常住居民人均可支配收入,72000.00,统计公报\n".encode()
    )
    browser.find_element(By.ID, "file").send_keys(str(statistics))
    browser.find_element(By.ID, "upload").click()
    wait_for(browser, "#job-status")
    WebDriverWait(browser, 60).until(
        lambda d: (
            d.find_element(By.ID, "job-status").get_attribute("data-status") in ("succeeded", "rejected", "failed")
        )
    )
    assert browser.find_element(By.ID, "job-status").get_attribute("data-status") == "succeeded"
    assert "service=compensation" in browser.current_url
    assert_stayed_local(browser)
