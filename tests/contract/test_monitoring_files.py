"""deploy/monitoring names only series the code exports (issue #15): every ``shegong_*`` metric in the
alert rules and the Grafana dashboard is one that ``shared/metrics.py`` or a service's metrics module
defines, so a renamed series cannot leave an alert silently watching nothing."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def defined_series() -> set[str]:
    names: set[str] = set()
    for source in [ROOT / "shared" / "metrics.py", *ROOT.glob("services/*/*metrics.py")]:
        names.update(re.findall(r'"(shegong_[a-z_]+)"', source.read_text()))
    return names


def used_series(text: str) -> set[str]:
    used = set()
    for name in re.findall(r"\bshegong_[a-z_]+", text):
        for suffix in SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in defined_series():
                name = name.removesuffix(suffix)
        used.add(name)
    return used


def test_alert_rules_watch_series_that_exist() -> None:
    rules = yaml.safe_load((MONITORING / "prometheus-rules.yaml").read_text())
    expressions = [rule["expr"] for group in rules["spec"]["groups"] for rule in group["rules"]]
    alerts = {rule["alert"] for group in rules["spec"]["groups"] for rule in group["rules"]}
    assert {"ShegongFeedLagging", "ShegongHighErrorRate", "ShegongPayrollRunStuck", "ShegongOutboxBacklog"} <= alerts
    used = used_series("\n".join(expressions))
    assert used
    assert used <= defined_series(), used - defined_series()


def test_dashboard_queries_series_that_exist() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = used_series("\n".join(expressions))
    assert used <= defined_series(), used - defined_series()
    assert {"shegong_feed_lag_events", "shegong_payroll_calculation_seconds", "shegong_db_pool_connections"} <= used


def test_kustomization_lists_the_files() -> None:
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    for name in [*kustomization["resources"], *kustomization["configMapGenerator"][0]["files"]]:
        assert (MONITORING / name).exists(), name
