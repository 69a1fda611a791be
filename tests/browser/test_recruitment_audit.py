"""The console's 招聘 Recruitment and 审计 Audit pages (issue #14) in headless Chromium against the real
suite with the demo data of two counties: a county's rounds (H1) with reserve capacity and use (H2) and
its live reserve pool; the audit log and the personal-data reads for auditors only, filtered by actor and
date range and paged; a user of one county sees none of the other county's rounds or audit records; the
navigation shows each page only to the roles it opens, and the service refuses the others anyway."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By

from tests.browser.conftest import (
    COUNTY_A,
    PASSWORD,
    Demo,
    assert_stayed_local,
    screenshot,
    sign_in,
    wait_for,
)
from tests.e2e.conftest import ADMIN_PASSWORD, token_for

pytestmark = pytest.mark.e2e
COUNTY_B = "331003"


def nav_links(browser: WebDriver) -> set[str]:
    return {str(a.get_attribute("href")).split("/console")[-1] for a in browser.find_elements(By.CSS_SELECTOR, "nav a")}


def rows(browser: WebDriver, table: str) -> list[str]:
    return [r.text for r in browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")]


def test_recruitment_rounds_reserve_and_pool_of_ones_own_county(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/")
    wait_for(browser, "nav")
    assert "/recruitment" in nav_links(browser)
    assert "/audit" not in nav_links(browser)  # a county admin is no auditor
    browser.find_element(By.CSS_SELECTOR, 'nav a[href="/console/recruitment"]').click()
    wait_for(browser, "#rounds")
    shown = rows(browser, "rounds")
    # newest first: H1 channel and hires; H2 cap = hires (1:1), use, live or expired
    assert len(shown) == 2
    assert shown[0].split() == ["2026-04-01", COUNTY_A, "2026年社区工作者选任", "选任", "3", "3", "3", "有效"]
    assert shown[1].split() == ["2025-04-01", COUNTY_A, "2025年社区工作者公开招聘", "公开招聘", "4", "4", "2", "已失效"]
    pool = rows(browser, "reserve")
    assert [r.split() for r in pool] == [["1", "候选10", "88.50"], ["2", "候选11", "85.50"], ["3", "候选12", "82.50"]]
    assert "下一批次公告时" in browser.find_element(By.TAG_NAME, "main").text  # no later round announced
    assert COUNTY_B not in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "recruitment", tmp_path)
    assert_stayed_local(browser)


def test_recruitment_of_another_county_is_refused(demo: Demo, browser: WebDriver) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_b)
    browser.get(f"{gateway}/console/recruitment")
    wait_for(browser, "#rounds")
    assert all(COUNTY_B in r for r in rows(browser, "rounds"))
    assert len(rows(browser, "rounds")) == 2
    browser.get(f"{gateway}/console/recruitment?county={COUNTY_A}")
    wait_for(browser, "main")
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "(404)" in main  # the roster: a county outside one's scope does not exist
    assert "2025年社区工作者公开招聘" not in main
    assert "候选10" not in main
    assert rows(browser, "reserve") == ["储备库为空"]
    assert_stayed_local(browser)


def make_account(admin: dict[str, str], gateway: str, *grants: tuple[str, str]) -> tuple[str, str, dict[str, str]]:
    """A real account with these grants: its name, its subject (``user:<id>``) and bearer headers."""
    username = f"audit-{uuid.uuid4().hex[:8]}"
    created = httpx.post(
        f"{gateway}/api/v1/identity/users",
        headers=admin,
        json={
            "username": username,
            "name": f"审计{username[-4:]}",
            "password": PASSWORD,
            "grants": [{"right": right, "region": region} for right, region in grants],
        },
    )
    assert created.status_code == 201, created.text
    token = httpx.post(
        f"{gateway}/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": PASSWORD}
    ).json()["access_token"]
    return username, f"user:{created.json()['id']}", {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def audited(demo: Demo) -> dict[str, Any]:
    """An auditor per county, and in each county a bulk unmasked read of its first three workers by a
    county admin holding the personal-data right there."""
    gateway = demo.suite.gateway
    admin = {"Authorization": f"Bearer {token_for(demo.suite, 'admin', ADMIN_PASSWORD)['access_token']}"}
    made: dict[str, Any] = {}
    for county, workers in ((COUNTY_A, demo.workers_a), (COUNTY_B, demo.workers_b)):
        made[f"auditor_{county}"] = make_account(admin, gateway, ("auditor", county))[0]
        username, subject, reader = make_account(admin, gateway, ("county_admin", county), ("personal_data", county))
        made[f"reader_username_{county}"] = username
        ids = [w["id"] for w in workers[:3]]
        read = httpx.post(f"{gateway}/api/v1/roster/workers:personal-data", headers=reader, json={"worker_ids": ids})
        assert read.status_code == 200, read.text
        made[f"reader_{county}"], made[f"read_{county}"] = subject, ids
    return made


def test_audit_page_for_auditors_with_actor_and_date_filters_and_paging(
    demo: Demo, audited: dict[str, Any], browser: WebDriver, tmp_path: Path
) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, audited[f"auditor_{COUNTY_A}"])
    browser.get(f"{gateway}/console/")
    wait_for(browser, "nav")
    assert "/audit" in nav_links(browser)
    browser.find_element(By.CSS_SELECTOR, 'nav a[href="/console/audit"]').click()
    wait_for(browser, "#reads")
    source = browser.page_source
    reads = rows(browser, "reads")
    # the account is shown by its name and username (the gateway resolves user:<uuid>), not by its id
    reader = audited[f"reader_username_{COUNTY_A}"]
    bulk = [r for r in reads if f"审计{reader[-4:]} {reader}" in r]
    assert len(bulk) == 1
    assert not any("user:" in r for r in reads)
    assert "批量 3" in bulk[0]  # one bulk record naming the three workers
    assert all(f"/console/workers/{w}" in source for w in audited[f"read_{COUNTY_A}"])
    assert audited[f"reader_{COUNTY_B}"] not in source
    assert not any(f"/console/workers/{w}" in source for w in audited[f"read_{COUNTY_B}"])
    events = rows(browser, "events")
    assert events
    assert "没有记录" not in events[0]
    assert not any(f" {COUNTY_B}" in e for e in events)  # none of county B's events (regions 331003…)
    screenshot(browser, "audit", tmp_path)
    assert_stayed_local(browser)

    assert any(f"审计{reader[-4:]} {reader}" in e for e in events)  # the log names accounts too
    # the actor filter (clicking an actor): only that reader's records, in both lists
    browser.find_element(By.CSS_SELECTOR, f'#reads a[title="{audited[f"reader_{COUNTY_A}"]}"]').click()
    wait_for(browser, "#reads")
    assert [reader in r for r in rows(browser, "reads")] == [True]
    assert all(reader in e for e in rows(browser, "events") if "没有记录" not in e)
    # a date range that ended before the read: nothing; one that holds today: the record
    browser.get(f"{gateway}/console/audit?since=2020-01-01&until=2020-12-31")
    wait_for(browser, "#reads")
    assert rows(browser, "reads") == ["没有记录"]
    assert rows(browser, "events") == ["没有记录"]
    browser.get(f"{gateway}/console/audit?since=2020-01-01&until=2100-12-31")
    wait_for(browser, "#reads")
    assert any(reader in r for r in rows(browser, "reads"))
    # the form's empty date inputs mean no bound; an impossible day is refused on the page (422)
    browser.get(f"{gateway}/console/audit?since=&until=&actor=")
    wait_for(browser, "#reads")
    assert any(reader in r for r in rows(browser, "reads"))
    browser.get(f"{gateway}/console/audit?since=2026-02-30")
    wait_for(browser, "main")
    assert "(422)" in browser.find_element(By.TAG_NAME, "main").text
    # paged: one record a page, the next page shows an older one
    browser.get(f"{gateway}/console/audit?limit=1")
    wait_for(browser, "#events-next")
    (first,) = rows(browser, "events")
    browser.find_element(By.ID, "events-next").click()
    wait_for(browser, "#events")
    (second,) = rows(browser, "events")
    assert second != first
    assert_stayed_local(browser)


def test_audit_records_of_another_county_stay_hidden_and_non_auditors_are_refused(
    demo: Demo, audited: dict[str, Any], browser: WebDriver
) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, audited[f"auditor_{COUNTY_B}"])
    browser.get(f"{gateway}/console/audit?limit=200")
    wait_for(browser, "#reads")
    source = browser.page_source
    assert any(audited[f"reader_username_{COUNTY_B}"] in r for r in rows(browser, "reads"))
    assert audited[f"reader_{COUNTY_A}"] not in source
    assert audited[f"reader_username_{COUNTY_A}"] not in source
    assert not any(w["id"] in source for w in demo.workers_a)
    assert not any(f" {COUNTY_A}" in e for e in rows(browser, "events"))
    browser.get(f"{gateway}/console/audit?actor={audited[f'reader_{COUNTY_A}']}")
    wait_for(browser, "#reads")
    assert rows(browser, "reads") == ["没有记录"]
    assert_stayed_local(browser)
    # a county admin: no 审计 in the navigation, and the page refuses (403)
    sign_in(browser, gateway, demo.accounts.county_a)
    assert "/audit" not in nav_links(browser)
    browser.get(f"{gateway}/console/audit")
    wait_for(browser, "main")
    assert "(403)" in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.ID, "reads")
    assert_stayed_local(browser)
