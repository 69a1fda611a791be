"""`make bench` keeps working (issue #16): the runner, once, at tiny sizes. No timing is asserted here
(benchmarks are not tests); what is asserted is that every path prints a row with its floor and ratio,
and that the correctness checks inside each benchmark (payroll totals to the cent against an independent
computation, the feed's projection, the report's counts, the gateway's answers) passed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import discover

ROOT = Path(__file__).resolve().parents[2]
TINY = {"payroll": 200, "feed": 1000, "staffing": 2000, "gateway": 1, "import": 200, "export": 1000, "mixed": 2}
# Rows per module: the gateway reads the enums, a worker and a payslip; import does CSV and .xlsx; export
# the workers list and the workforce (import format), each as CSV and .xlsx.
ROWS = {"payroll": 2, "feed": 1, "staffing": 1, "gateway": 3, "import": 2, "export": 4, "mixed": 1}


def test_every_benchmark_is_discovered_by_its_convention() -> None:
    assert set(discover()) >= set(TINY)


def test_the_runner_prints_every_path_with_its_floor_and_ratio_and_its_checks_pass(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    sizes = [f"--size={name}={n}" for name, n in TINY.items()]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", ",".join(TINY), *sizes, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert {"cpu", "cores", "ram", "python", "postgresql"} <= set(report["machine"])
    rows = report["rows"]
    assert set(ROWS) == set(TINY)
    assert len(rows) == sum(ROWS.values())
    for row in rows:
        assert (row["floor"] or 0) > 0, row
        assert (row["ratio"] or 0) > 0, row
        assert row["checks"], row
        assert row["checks_passed"], row
        assert row["peak_rss_mib"] > 0, row
        assert f"| {row['path']} |" in done.stdout  # the printed table has the row
    payroll = next(r for r in rows if r["path"].startswith("monthly payroll"))
    assert any("to the cent" in check for check in payroll["checks"])
    bonus = next(r for r in rows if "C5 bonus" in r["path"])  # the month that pays every township's bonus
    assert any("to the cent" in check for check in bonus["checks"])
    assert any("payouts =" in check for check in bonus["checks"])
    assert "| floor (same run, same data) | ratio |" in done.stdout
