"""The operators' CLI (``shegong``, typer) against the real suite, run with typer's CliRunner: sign-in kept
owner-only, the demo district loaded, the staffing report as a table, workers exported, a payroll run
calculated and approved, and a clear error (exit 1) from an endpoint the suite does not have yet. In
舟山市定海区 330902 (city 330900), which no other test uses."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from services.compensation import statistic_import
from shared.spreadsheets import Cell, csv_bytes
from shegong_cli.main import app
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, make_user, token_for

pytestmark = pytest.mark.e2e
COUNTY = "330902"


@pytest.fixture
def shegong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SHEGONG_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SHEGONG_TOKEN", raising=False)
    return CliRunner(env={"COLUMNS": "220"})


def run(runner: CliRunner, *args: str, code: int = 0) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


def test_the_operators_cli_against_the_suite(suite: Suite, shegong: CliRunner, tmp_path: Path) -> None:
    signed = run(shegong, "login", "--url", suite.gateway, "--username", "admin", "--password", ADMIN_PASSWORD)
    assert "signed in" in signed.output
    token_file = tmp_path / "config" / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text())["url"] == suite.gateway
    refused = run(shegong, "login", "--url", suite.gateway, "--username", "admin", "--password", "wrong", code=1)
    assert "HTTP 401" in refused.output

    run(shegong, "demo", "--county", COUNTY)
    report = run(shegong, "report", "staffing", "--region", COUNTY, "--date", "2026-06-01").output
    assert "东山社区" in report
    assert "S2 7→6" in report  # one short of the seven its 2,600 households require
    assert f"quota {COUNTY}: 30/45 (S5)" in report

    ndjson = tmp_path / "workers.ndjson"
    run(shegong, "export", "workers", "--format", "ndjson", "--region", COUNTY, "--out", str(ndjson))
    workers = [json.loads(line) for line in ndjson.read_text(encoding="utf-8").splitlines()]
    assert len(workers) == 30
    assert {w["community_code"][:6] for w in workers} == {COUNTY}
    table = tmp_path / "workers.csv"
    run(shegong, "export", "workers", "--format", "csv", "--region", COUNTY, "--out", str(table))
    assert len(table.read_text(encoding="utf-8").splitlines()) in (31, 32)  # a header, 30 rows (maybe a BOM line)

    calculated = run(shegong, "payroll", "run", "--region", COUNTY, "--month", "2026-05").output
    assert "calculated" in calculated
    run_id = next(word for line in calculated.splitlines() for word in line.split("│") if len(word.strip()) == 36)
    # 不相容职务分离: who calculated does not approve (a clear refusal, exit 1); another officer does
    own = run(shegong, "payroll", "approve", run_id.strip(), code=1).output
    assert "HTTP 403" in own
    assert "不相容职务分离" in own
    admin = {"Authorization": f"Bearer {token_for(suite, 'admin', ADMIN_PASSWORD)['access_token']}"}
    reviewer = f"cli-{uuid.uuid4().hex[:8]}"
    make_user(suite, admin, reviewer, "county_admin", COUNTY)
    run(shegong, "login", "--url", suite.gateway, "--username", reviewer, "--password", "a long enough password")
    approved = run(shegong, "payroll", "approve", run_id.strip()).output
    assert "approved" in approved
    run(shegong, "login", "--url", suite.gateway, "--username", "admin", "--password", ADMIN_PASSWORD)

    # The county's workers in the import format, imported again: every person is already on record, so the
    # all-or-nothing import is rejected, nothing is written, and the CLI lists the bad cells and exits 1.
    exported = httpx.get(f"{suite.gateway}/api/v1/roster/workforce.csv", params={"region": COUNTY}, headers=admin)
    assert exported.status_code == 200, exported.text
    upload = tmp_path / "workforce.csv"
    upload.write_bytes(exported.content)
    rejected = run(shegong, "import", str(upload), "--kind", "workforce", "--region", COUNTY, code=1)
    assert "rejected" in rejected.output
    assert "errors" in rejected.output  # the table of bad cells, each with its rule

    # Each kind goes to the service that imports it: reference statistics to compensation (C2).
    statistics = tmp_path / "statistics.csv"
    row: list[Cell] = [COUNTY, 2025, "城镇常住居民人均可支配收入", "70000.00", "定海区2025年统计公报"]
    statistics.write_bytes(csv_bytes(statistic_import.COLUMNS, [row]))
    loaded = run(shegong, "import", str(statistics), "--kind", "statistics", "--region", COUNTY)
    assert "succeeded, 1/1 rows" in loaded.output
    assert "unknown kind" in run(shegong, "import", str(statistics), "--kind", "pets", code=1).output

    # A token from the environment works without a stored sign-in.
    run(shegong, "logout")
    token = token_for(suite, "admin", ADMIN_PASSWORD)["access_token"]
    with_env = CliRunner(env={"COLUMNS": "220", "SHEGONG_TOKEN": token})
    assert "东山社区" in run(with_env, "report", "staffing", "--region", COUNTY, "--url", suite.gateway).output
    assert run(shegong, "report", "staffing", "--region", COUNTY, code=1).exit_code == 1  # signed out
