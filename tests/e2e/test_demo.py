"""``make demo`` against the running suite: it builds a district through the API, a second run is safe,
and the staffing report then shows its communities with findings (in 丽水 331102, unused elsewhere)."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import bearer
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, token_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_demo_data_through_the_api_twice(suite: Suite, data_dir: Path) -> None:
    env = suite.env | {
        "SHEGONG_DEMO_GATEWAY": suite.gateway,
        "SHEGONG_DEMO_COUNTY": "331102",
        "SHEGONG_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    for _ in range(2):
        run = subprocess.run(
            [sys.executable, "-m", "deploy.local.demo"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stderr[-2000:] + run.stdout[-2000:]
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    report = httpx.get(
        f"{suite.gateway}/api/v1/roster/reports/staffing",
        headers=admin,
        params={"region": "331102", "date": "2026-06-01"},
    ).json()
    assert len(report["communities"]) == 5
    by_code = {c["code"]: c for c in report["communities"]}
    assert (by_code["331102001002"]["required"], by_code["331102001002"]["actual"]) == (
        9,
        9,
    )  # 3,099 households + 1 approved (S2, S3)
    assert [(f["rule"], f["expected"], f["actual"]) for f in by_code["331102001001"]["findings"]] == [("S2", 7, 6)]
    assert [f["rule"] for f in by_code["331102002001"]["findings"]] == ["S8"]
    assert report["quotas"] == [{"county_code": "331102", "headcount": 45, "used": 30, "findings": []}]
