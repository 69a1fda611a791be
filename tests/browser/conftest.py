"""The console and the API docs in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, installed by ``make browser``) driven by Selenium against the four services started as
real processes, on a database of their own, with the demo district of ``make demo`` in two counties.

The suite lives for this package only (its feed consumers would otherwise hold back the change feeds of
later tests). Every page a test opens is checked for requests that leave 127.0.0.1 (Chrome's performance
log) and for Content-Security-Policy violations (its console log).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PostgresServer, bearer, migrated_database
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, make_user, run_bootstrap, running_suite, token_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough password"
COUNTY_A, COUNTY_B = "331002", "331003"  # 椒江区 and the same demo district under 黄岩区's code
TOWNSHIP_A = f"{COUNTY_A}001000"
MONTH, LAST_MONTH = "2026-06", "2026-05"
WAIT = 20


@pytest.fixture(scope="package")
def browser_database_url(postgres_server: PostgresServer) -> Iterator[str]:
    with migrated_database(postgres_server, "shegong_browser") as url:
        yield url


@pytest.fixture(scope="package")
def browser_suite(
    browser_database_url: str, signing_keys_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Suite]:
    bootstrap = run_bootstrap(browser_database_url, tmp_path_factory.mktemp("browser-bootstrap"))
    with running_suite(
        browser_database_url,
        signing_keys_dir,
        bootstrap,
        tmp_path_factory.mktemp("browser-logs"),
        rate_limit_user=10**6,
        rate_limit_window=60,
    ) as suite:
        yield suite


@dataclass
class Accounts:
    """Real accounts of the suite (the gateway refuses tokens of unknown ones), all with ``PASSWORD``."""

    township_a: str  # township_officer of 海门街道 in county A
    county_a: str  # county_admin of county A
    county_b: str  # county_admin of county B


@dataclass
class Demo:
    suite: Suite
    accounts: Accounts
    runs: dict[str, dict[str, Any]]  # month → county A's township run of that month
    workers_a: list[dict[str, Any]]
    workers_b: list[dict[str, Any]]


def _eventually(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: {result!r}")
        time.sleep(0.3)


@pytest.fixture(scope="package")
def demo(browser_suite: Suite) -> Demo:
    """``make demo`` twice (county A and county B), three accounts, and county A's township payroll: last
    month approved, this month calculated (for the approval test)."""
    suite = browser_suite
    for county in (COUNTY_A, COUNTY_B):
        env = suite.env | {
            "SHEGONG_DEMO_GATEWAY": suite.gateway,
            "SHEGONG_DEMO_COUNTY": county,
            "SHEGONG_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        run = subprocess.run(
            [sys.executable, "-m", "deploy.local.demo"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stderr[-2000:] + run.stdout[-2000:]
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    suffix = uuid.uuid4().hex[:6]
    accounts = Accounts(f"township-a-{suffix}", f"county-a-{suffix}", f"county-b-{suffix}")
    for username, right, region in (
        (accounts.township_a, "township_officer", TOWNSHIP_A),
        (accounts.county_a, "county_admin", COUNTY_A),
        (accounts.county_b, "county_admin", COUNTY_B),
    ):
        make_user(suite, admin, username, right, region)
    pay = f"{suite.gateway}/api/v1/compensation"
    runs: dict[str, dict[str, Any]] = {}
    for month in (LAST_MONTH, MONTH):
        created = httpx.post(f"{pay}/payroll-runs", headers=admin, json={"region_code": TOWNSHIP_A, "month": month})
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]

        def calculated(run_id: str = run_id) -> dict[str, Any] | None:
            body: dict[str, Any] = httpx.post(f"{pay}/payroll-runs/{run_id}/calculate", headers=admin).json()
            return body if body.get("workers") == 22 else None  # 6 + 9 + 7 workers of 海门街道 (demo)

        runs[month] = _eventually(calculated)
    reviewer = bearer(token_for(suite, accounts.county_a, PASSWORD)["access_token"])  # not who calculated it
    approved = httpx.post(f"{pay}/payroll-runs/{runs[LAST_MONTH]['id']}/approve", headers=reviewer)
    assert approved.status_code == 200, approved.text
    roster = f"{suite.gateway}/api/v1/roster"
    workers = {
        county: httpx.get(f"{roster}/workers", headers=admin, params={"region": county, "limit": 500}).json()["items"]
        for county in (COUNTY_A, COUNTY_B)
    }
    return Demo(suite, accounts, runs, workers[COUNTY_A], workers[COUNTY_B])


def chromedriver_path() -> str:
    found = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    assert Path(found).exists(), "chromedriver missing: run `make browser` (apt-get install chromium-driver)"
    return found


@pytest.fixture(scope="package")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--lang=zh-CN",
        "--no-first-run",
        "--disable-background-networking",  # Chrome's own update and safe-browsing calls are not the page's
        "--disable-component-update",
        "--disable-sync",
        "--disable-features=Translate,OptimizationHints,MediaRouter",
    ):
        options.add_argument(argument)
    chromium = shutil.which("chromium")
    if chromium:
        options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(chromedriver_path()))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class Traffic:
    """What the browser asked for since the last look (Chrome's performance log, which it drains)."""

    urls: list[str]
    csp_blocked: list[str]  # refused by the page's Content-Security-Policy: never sent

    def foreign(self) -> list[str]:
        """Requests sent to any host but 127.0.0.1."""
        return [
            u
            for u in self.urls
            if urlsplit(u).scheme in ("http", "https", "ws", "wss")
            and urlsplit(u).hostname != "127.0.0.1"
            and u not in self.csp_blocked
        ]


def traffic(driver: WebDriver) -> Traffic:
    urls: dict[str, str] = {}
    blocked: list[str] = []
    for entry in driver.get_log("performance"):  # type: ignore[no-untyped-call]
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        if message.get("method") == "Network.loadingFailed" and params.get("blockedReason") == "csp":
            blocked.append(urls.get(params["requestId"], ""))
    return Traffic(list(urls.values()), blocked)


def requested_urls(driver: WebDriver) -> list[str]:
    return traffic(driver).urls


def csp_violations(driver: WebDriver) -> list[str]:
    return [
        e["message"]
        for e in driver.get_log("browser")  # type: ignore[no-untyped-call]
        if "Content Security Policy" in e["message"] or "Refused to" in e["message"]
    ]


def assert_stayed_local(driver: WebDriver) -> list[str]:
    """No request left 127.0.0.1, and the page broke no rule of its Content-Security-Policy."""
    seen = traffic(driver)
    assert seen.foreign() == []
    assert seen.csp_blocked == []
    assert csp_violations(driver) == []
    return seen.urls


def click_and_load(driver: WebDriver, button: str) -> None:
    """Click ``button`` (a link or a form's submit) and wait until the page it leads to has replaced this one:
    what the test reads next is on the new page, never on the one going away."""
    leaving = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, button).click()

    def gone(_: WebDriver) -> bool:
        try:
            leaving.is_enabled()
        except WebDriverException:  # stale, or chromedriver's "Node … does not belong to the document"
            return True
        return False

    WebDriverWait(driver, WAIT).until(gone)
    # and loaded: chromedriver refuses to act on a document still being built ("Node … does not belong")
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


def wait_for(driver: WebDriver, css: str, timeout: float = WAIT) -> Any:
    try:
        return WebDriverWait(driver, timeout).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
        )
    except TimeoutException as exc:  # say what the page showed instead
        text = driver.find_element(By.TAG_NAME, "body").text[:1500]
        raise AssertionError(f"{css} not on {driver.current_url} in {timeout} s; the page says: {text}") from exc


def sign_in(driver: WebDriver, gateway: str, username: str, password: str = PASSWORD) -> None:
    driver.delete_all_cookies()
    driver.get(f"{gateway}/console/sign-in")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, WAIT).until(lambda d: "/console/sign-in" not in d.current_url)


def screenshot(driver: WebDriver, name: str, tmp_path: Path) -> Path:
    """Save a screenshot: under ``docs/img/`` when SHEGONG_CONSOLE_SCREENSHOTS=1 (for docs/console.md),
    else beside the test's temporary files."""
    folder = ROOT / "docs" / "img" if os.environ.get("SHEGONG_CONSOLE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"console-{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(900, height + 120), 2400))
    assert driver.save_screenshot(str(path))
    driver.set_window_size(width, 900)
    return path
