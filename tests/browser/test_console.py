"""The console (issue #14) in headless Chromium against the real suite: a township officer signs in and
finds a worker (ID number masked: no personal-data right); a county officer reads the staffing report and
approves a payroll run after the step-up confirmation, then prints a payslip; a user of another county sees
none of it on any page; the language switch; phone width; the API docs render their operations. Every page
stays on 127.0.0.1 and breaks no rule of its Content-Security-Policy."""

from __future__ import annotations

import re
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
    MONTH,
    PASSWORD,
    TOWNSHIP_A,
    WAIT,
    Demo,
    assert_stayed_local,
    csp_violations,
    requested_urls,
    screenshot,
    sign_in,
    traffic,
    wait_for,
)
from tests.e2e.conftest import ADMIN_PASSWORD, token_for

pytestmark = pytest.mark.e2e


def test_pages_carry_a_strict_csp_and_need_a_session(demo: Demo) -> None:
    gateway = demo.suite.gateway
    root = httpx.get(f"{gateway}/", follow_redirects=False)
    assert root.status_code == 303
    assert root.headers["location"] == "/console/"
    page = httpx.get(f"{gateway}/console/workers", follow_redirects=False)
    assert page.status_code == 303  # not signed in: to the sign-in form, and back afterwards
    assert page.headers["location"] == "/console/sign-in?next=/console/workers"
    form = httpx.get(f"{gateway}/console/sign-in")
    csp = form.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "<script>" not in form.text  # scripts only from files of this origin
    assert "HttpOnly" in form.headers["set-cookie"]  # the CSRF cookie
    assert "SameSite=strict" in form.headers["set-cookie"]


def test_sign_in_needs_the_forms_csrf_token(demo: Demo) -> None:
    gateway = demo.suite.gateway
    with httpx.Client(base_url=gateway) as client:
        client.get("/console/sign-in")
        forged = client.post(
            "/console/sign-in",
            data={"username": demo.accounts.township_a, "password": PASSWORD, "csrf": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "shegong_access" not in forged.headers.get("set-cookie", "")


def test_signing_out_ends_the_session_and_is_audited(demo: Demo) -> None:
    """The console's sign-out ends the refresh-token family, not only the cookies, and leaves the same
    ``session_revoked`` record as the API's RFC 7009 revocation (the audit log shows every session's end)."""
    gateway = demo.suite.gateway
    username = demo.accounts.township_a
    with httpx.Client(base_url=gateway) as client:
        form = client.get("/console/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        signed_in = client.post(
            "/console/sign-in",
            data={"username": username, "password": PASSWORD, "csrf": csrf.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        refresh = client.cookies["shegong_refresh"]
        home = client.get("/console/")
        token = re.search(r'name="csrf" value="([^"]+)"', home.text)
        assert token is not None
        signed_out = client.post("/console/sign-out", data={"csrf": token.group(1)}, follow_redirects=False)
        assert signed_out.status_code == 303
    again = httpx.post(f"{gateway}/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert again.status_code == 401  # the session is over: its refresh token is refused
    assert again.json()["error"] == "invalid_grant"
    admin = bearer(token_for(demo.suite, "admin", ADMIN_PASSWORD)["access_token"])
    audit = httpx.get(
        f"{gateway}/api/v1/audit/events", headers=admin, params={"action": "session_revoked", "limit": 500}
    ).json()
    ended = [e for e in audit["items"] if (e["actor_account"] or {}).get("username") == username]
    assert len(ended) == 1, audit  # this user's one sign-out, by the user


def test_township_officer_signs_in_and_finds_a_worker(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    requested_urls(browser)  # drain what came before
    sign_in(browser, gateway, demo.accounts.township_a)
    assert "乡镇（街道）干部" in browser.page_source
    for cookie in ("shegong_access", "shegong_refresh"):
        stored = browser.get_cookie(cookie)
        assert stored is not None
        assert stored["httpOnly"] is True
        assert stored["sameSite"] == "Strict"
    screenshot(browser, "home", tmp_path)
    browser.find_element(By.LINK_TEXT, "社工").click()
    wait_for(browser, "table.results")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    assert len(rows) == 22  # 海门街道's three communities (demo): nothing of the other township
    # Codes read in the services' own words (GET /v1/meta/enums): the post filter offers P1's three posts, the
    # status filter every worker status the roster knows; the results show the same labels.
    posts = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#post option")][1:]
    assert posts == ["正职", "副职", "工作人员"]
    statuses = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#status option")][1:]
    assert statuses == ["pending", "probation", "active", "on_loan", "left"]
    shown_posts = {c.text for c in browser.find_elements(By.CSS_SELECTOR, "table.results tbody td")}
    assert shown_posts & {"正职", "副职", "工作人员"}
    name = browser.find_element(By.ID, "name")
    name.send_keys("社工03")
    browser.find_element(By.ID, "search").click()  # htmx swaps the results in
    WebDriverWait(browser, WAIT).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "table.results tbody tr")) == 1)
    screenshot(browser, "workers", tmp_path)
    browser.find_element(By.LINK_TEXT, "社工03").click()
    heading = wait_for(browser, "#worker-name")
    assert heading.text.startswith("社工03")
    id_number = browser.find_element(By.ID, "worker-id-number").text
    assert "********" in id_number  # masked: the officer has no personal-data right
    assert "任职与等级" in browser.page_source
    assert "劳动合同" in browser.page_source
    screenshot(browser, "worker", tmp_path)
    assert_stayed_local(browser)


def test_county_officer_reads_staffing_and_drills_down(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/staffing?region={COUNTY_A}&date=2026-06-01")
    table = wait_for(browser, "#staffing-table")
    text = table.text
    assert "东山社区" in text
    short = browser.find_elements(By.CSS_SELECTOR, "#staffing-table tr.gap")
    assert any("东山社区" in row.text and "-1" in row.text for row in short)  # 7 required (S2), 6 in post
    assert "45" in browser.find_element(By.CSS_SELECTOR, "section.card table").text  # quota (S5)
    screenshot(browser, "staffing", tmp_path)
    browser.find_element(By.LINK_TEXT, "海门街道").click()
    wait_for(browser, "#staffing-table")
    assert "白云社区" not in browser.find_element(By.ID, "staffing-table").text  # the other street
    browser.find_element(By.LINK_TEXT, "西门社区").click()  # the community's own staffing
    wait_for(browser, "#staffing-table")
    browser.find_element(By.CSS_SELECTOR, "#staffing-table a").click()  # → its workers
    wait_for(browser, "table.results")
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")) == 9
    assert_stayed_local(browser)


def test_county_officer_approves_a_payroll_run_after_step_up(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    run_id = demo.runs[MONTH]["id"]
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/payroll?region={TOWNSHIP_A}")
    runs = wait_for(browser, "#runs")
    assert MONTH in runs.text
    screenshot(browser, "payroll", tmp_path)
    browser.get(f"{gateway}/console/payroll/{run_id}")
    assert wait_for(browser, "#run-status").text == "已核算"
    assert "没有变化" in browser.page_source  # the same 22 workers and pay as last month
    screenshot(browser, "payroll-run", tmp_path)
    browser.find_element(By.ID, "approve").click()
    wait_for(browser, "#confirm-password").send_keys("not the password")
    browser.find_element(By.ID, "confirm-approve").click()
    assert "密码错误" in wait_for(browser, ".alert").text  # no approval without the password again
    status = httpx.get(
        f"{gateway}/api/v1/compensation/payroll-runs/{run_id}",
        headers={"Authorization": f"Bearer {_token(gateway, demo.accounts.county_a)}"},
    ).json()["status"]
    assert status == "calculated"
    browser.find_element(By.ID, "confirm-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "confirm-approve").click()
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "run-status").text == "已审批")
    approved = httpx.get(
        f"{gateway}/api/v1/compensation/payroll-runs/{run_id}",
        headers={"Authorization": f"Bearer {_token(gateway, demo.accounts.county_a)}"},
    ).json()
    assert approved["status"] == "approved"
    assert approved["approved_by"]
    # a payslip prints without the console around it
    browser.find_element(By.CSS_SELECTOR, "#payslips tbody tr a").click()
    wait_for(browser, "article.payslip")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert browser.find_element(By.CSS_SELECTOR, "header.top").is_displayed() is False
        assert browser.find_element(By.CSS_SELECTOR, "article.payslip").is_displayed()
        screenshot(browser, "payslip-print", tmp_path)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert_stayed_local(browser)


def _token(gateway: str, username: str) -> str:
    response = httpx.post(
        f"{gateway}/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    token: str = response.json()["access_token"]
    return token


def test_a_user_of_one_county_never_sees_another_countys_data(demo: Demo, browser: WebDriver) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_b)
    a_worker = demo.workers_a[0]
    a_run = demo.runs[MONTH]
    pages = [
        "/console/",
        "/console/staffing",
        f"/console/staffing?region={COUNTY_A}",
        f"/console/staffing?region={TOWNSHIP_A}",
        "/console/workers",
        f"/console/workers?region={COUNTY_A}",
        f"/console/workers?region={COUNTY_A}001001",
        f"/console/workers/{a_worker['id']}",
        "/console/payroll",
        f"/console/payroll?region={TOWNSHIP_A}",
        f"/console/payroll/{a_run['id']}",
        f"/console/payroll/{a_run['id']}/payslips/{a_worker['id']}",
        f"/console/payroll/{a_run['id']}/approve",
    ]
    a_ids = {w["id"] for w in demo.workers_a} | {r["id"] for r in demo.runs.values()}
    # county A's regions below the county (its own are 331003…), names being the same in both demo districts
    a_codes = {w["community_code"] for w in demo.workers_a} | {TOWNSHIP_A, f"{COUNTY_A}002000"}
    for path in pages:
        browser.get(gateway + path)
        wait_for(browser, "main")
        asked = path.split("/")[-1].split("region=")[-1]  # what the user typed may be echoed back
        shown = browser.find_element(By.TAG_NAME, "main").text
        ids = [i for i in a_ids if i in browser.page_source and i not in path]
        assert ids == [], path
        assert [c for c in a_codes if c in shown and c != asked] == [], path
        assert "331002 45" not in shown, path  # county A's quota line
    # the user's own county is there
    browser.get(f"{gateway}/console/workers")
    wait_for(browser, "table.results")
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")) == len(demo.workers_b)
    assert_stayed_local(browser)


def test_a_refusal_a_page_does_not_show_in_place_is_the_error_page(demo: Demo, browser: WebDriver) -> None:
    """The console's one error page (render.api_error_page): county A's run, payslip, approval form and worker
    do not exist for a user of county B, and each page says so with the service's status, in the console."""
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_b)
    a_worker = demo.workers_a[0]
    a_run = demo.runs[MONTH]
    for path in (
        f"/console/payroll/{a_run['id']}",
        f"/console/payroll/{a_run['id']}/payslips/{a_worker['id']}",
        f"/console/payroll/{a_run['id']}/approve",
        f"/console/workers/{a_worker['id']}",
    ):
        browser.get(gateway + path)
        assert "(404)" in wait_for(browser, "main .alert").text, path
        assert browser.find_elements(By.CSS_SELECTOR, "nav a"), path  # the signed-in user's page, navigation kept


def test_english_switch_and_phone_width(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/staffing?region={COUNTY_A}&date=2026-06-01")
    browser.find_element(By.LINK_TEXT, "English").click()
    wait_for(browser, "#staffing-table")
    assert "Communities" in browser.page_source
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "en"
    screenshot(browser, "staffing-en", tmp_path)
    browser.find_element(By.LINK_TEXT, "中文").click()
    wait_for(browser, "#staffing-table")
    assert "社区配备" in browser.page_source
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{gateway}/console/staffing?region={COUNTY_A}&date=2026-06-01")
        wait_for(browser, "#staffing-table")
        # the page itself never scrolls sideways (wide tables scroll inside their box)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= browser.execute_script(
            "return window.innerWidth"
        )
        screenshot(browser, "staffing-phone", tmp_path)
    finally:
        browser.set_window_size(1280, 900)
    assert_stayed_local(browser)


@pytest.mark.parametrize("service", ["gateway", "roster"])
def test_swagger_ui_renders_every_operation_locally(
    demo: Demo, browser: WebDriver, tmp_path: Path, service: str
) -> None:
    base = demo.suite.gateway if service == "gateway" else demo.suite.service_url(service)
    document = httpx.get(f"{base}/openapi.json").json()
    assert document["openapi"].startswith("3.1")

    def operations(doc: dict[str, Any]) -> int:
        methods = ("get", "post", "put", "patch", "delete")
        return sum(1 for item in doc["paths"].values() for method in item if method in methods)

    def drawn(expected: int) -> None:
        WebDriverWait(browser, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) == expected)

    requested_urls(browser)
    browser.get(f"{base}/docs")
    wait_for(browser, ".opblock", timeout=60)
    if service == "gateway":
        # The merged document service by service (Swagger UI draws no more than 124 operations of one
        # document); together the parts hold every operation of the merged document, each drawn.
        select = Select(browser.find_element(By.ID, "openapi-part"))
        parts = [option.get_attribute("value") or "" for option in select.options]
        assert [p.rsplit("/", 1)[-1] for p in parts] == [
            "gateway.json",
            "roster.json",
            "compensation.json",
            "evaluation.json",
        ]
        counts = []
        for part in parts:
            Select(browser.find_element(By.ID, "openapi-part")).select_by_value(part)
            counts.append(operations(httpx.get(f"{base}{part}").json()))
            drawn(counts[-1])
        assert sum(counts) == operations(document)
        Select(browser.find_element(By.ID, "openapi-part")).select_by_value(parts[0])
        drawn(counts[0])
    else:
        drawn(operations(document))
    assert not browser.find_elements(By.CSS_SELECTOR, ".errors-wrapper")  # "Unable to render this definition"
    if service == "gateway":
        screenshot(browser, "docs", tmp_path)
    urls = assert_stayed_local(browser)
    assert any(u.endswith("/docs/static/vendor/swagger-ui-bundle.js") for u in urls)


def test_redoc_renders_locally(demo: Demo, browser: WebDriver) -> None:
    requested_urls(browser)
    browser.get(f"{demo.suite.gateway}/redoc")
    wait_for(browser, "[data-section-id^='tag/']", timeout=60)
    seen = traffic(browser)
    assert seen.foreign() == []
    # Redoc's bundle always shows Redocly's logo from its CDN: the page's CSP refuses it, it is never sent
    assert seen.csp_blocked in ([], ["https://cdn.redoc.ly/redoc/logo-mini.svg"])
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in v for v in csp_violations(browser))


def test_pay_against_the_policy_chart(demo: Demo, browser: WebDriver, tmp_path: Path) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/pay?region={COUNTY_A}&year=2026")
    table = wait_for(browser, "#pay-table")
    assert "椒江区" in table.text  # May's approved run counts (C1: without the employer's parts)
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_element(By.ID, "pay-chart").get_attribute("data-rendered") == "true"
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#pay-chart canvas")  # ECharts from the local copy
    screenshot(browser, "pay", tmp_path)
    assert_stayed_local(browser)


def test_assessment_shows_training_shortfalls_and_the_renewal_worklist(
    demo: Demo, browser: WebDriver, tmp_path: Path
) -> None:
    gateway = demo.suite.gateway
    sign_in(browser, gateway, demo.accounts.county_a)
    browser.get(f"{gateway}/console/assessment?region={COUNTY_A}&year=2026")
    training = wait_for(browser, "#training")
    # no course recorded in the demo: every worker of the county is short of the 40 hours (E5)
    assert len(training.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(demo.workers_a)
    renewals = wait_for(browser, "#renewals")
    assert len(renewals.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(demo.workers_a)  # contracts end 2026-03
    screenshot(browser, "assessment", tmp_path)
    assert_stayed_local(browser)


def test_swagger_ui_try_it_out_with_a_token_from_the_password_flow(demo: Demo, browser: WebDriver) -> None:
    gateway = demo.suite.gateway
    browser.delete_all_cookies()
    browser.get(f"{gateway}/docs#/auth/auth-who_am_i")
    wait_for(browser, ".opblock", timeout=60)
    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
    username = wait_for(browser, "#oauth_username")
    username.send_keys(demo.accounts.township_a)
    browser.find_element(By.ID, "oauth_password").send_keys(PASSWORD)
    flow = username.find_element(By.XPATH, "./ancestor::div[contains(@class, 'auth-container')]")
    flow.find_element(By.CSS_SELECTOR, "button.authorize").click()
    WebDriverWait(browser, WAIT).until(lambda d: "Authorized" in flow.text)  # the gateway issued a token
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .close-modal").click()
    operation = wait_for(browser, "#operations-auth-auth-who_am_i")
    if "is-open" not in (operation.get_attribute("class") or ""):
        operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait_for(browser, "#operations-auth-auth-who_am_i .try-out__btn").click()
    wait_for(browser, "#operations-auth-auth-who_am_i .execute").click()
    status = wait_for(browser, "#operations-auth-auth-who_am_i .live-responses-table tbody .response-col_status")
    assert status.text.strip().startswith("200")
    body = browser.find_element(By.CSS_SELECTOR, "#operations-auth-auth-who_am_i .live-responses-table").text
    assert "township_officer" in body
    assert_stayed_local(browser)
