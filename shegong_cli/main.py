"""The ``shegong`` commands (typer, rich). ``--url`` defaults to the signed-in gateway or
http://127.0.0.1:8000; the token comes from ``shegong login`` or ``SHEGONG_TOKEN``."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shegong_cli import config
from shegong_cli.api import Api, ApiError, sign_in

app = typer.Typer(help="shegong 社工: operators' tool for the gateway's API", no_args_is_help=True)
payroll = typer.Typer(help="工资核算 payroll runs", no_args_is_help=True)
cycle = typer.Typer(help="考核周期 assessment cycles", no_args_is_help=True)
report = typer.Typer(help="报表 reports", no_args_is_help=True)
export = typer.Typer(help="导出 exports", no_args_is_help=True)
app.add_typer(payroll, name="payroll")
app.add_typer(cycle, name="cycle")
app.add_typer(report, name="report")
app.add_typer(export, name="export")
console = Console()

Url = Annotated[str | None, typer.Option("--url", help="the gateway (default: the signed-in one, else :8000)")]
POLL_SECONDS = 0.5
RUNNING_IMPORT = frozenset({"queued", "validating", "loading"})


def fail(message: str) -> typer.Exit:
    console.print(f"[red]✗[/red] {message}")
    return typer.Exit(1)


@contextmanager
def gateway(url: str | None) -> Iterator[Api]:
    """The gateway's API for one command; a refusal ends the command with the service's message (exit 1)."""
    with Api(url) as api:
        try:
            yield api
        except ApiError as exc:
            raise fail(str(exc)) from exc


@app.command()
def login(
    url: Annotated[str, typer.Option("--url", help="the gateway")] = config.DEFAULT_URL,
    username: Annotated[str | None, typer.Option(help="用户名 a person's account")] = None,
    password: Annotated[str | None, typer.Option(help="密码 (asked when not given)", envvar="SHEGONG_PASSWORD")] = None,
    client_id: Annotated[str | None, typer.Option(help="an API client instead of a person")] = None,
    client_secret: Annotated[str | None, typer.Option(envvar="SHEGONG_CLIENT_SECRET")] = None,
) -> None:
    """登录 sign in and keep the token under ~/.config/shegong/ (owner-only)."""
    if client_id:
        secret = client_secret or typer.prompt("client secret", hide_input=True)
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    else:
        user = username or typer.prompt("username")
        form = {
            "grant_type": "password",
            "username": user,
            "password": password or typer.prompt("password", hide_input=True),
        }
    try:
        session = sign_in(url, form)
    except (ApiError, httpx.HTTPError) as exc:
        raise fail(f"登录失败 sign-in failed: {exc}") from exc
    path = config.save(session)
    console.print(f"[green]✓[/green] signed in to {session.url} (token in {path})")


@app.command()
def logout() -> None:
    """退出 forget the stored token."""
    console.print("signed out" if config.forget() else "not signed in")


# Which service imports each kind (issue #13): its /imports takes the upload.
IMPORT_SERVICE = {
    "workforce": "roster",
    "regions": "roster",
    "training": "evaluation",
    "scores": "evaluation",
    "statistics": "compensation",
}


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX to import")],
    kind: Annotated[
        str, typer.Option("--kind", help="what the file holds: " + ", ".join(IMPORT_SERVICE))
    ] = "workforce",
    mode: Annotated[
        str, typer.Option("--mode", help="all_or_nothing (nothing written unless every row is good) or good_rows")
    ] = "all_or_nothing",
    region: Annotated[str | None, typer.Option(help="区划 the region the file is for (default: the caller's)")] = None,
    url: Url = None,
) -> None:
    """导入 upload a file to the service that imports its kind and follow the import with a progress bar."""
    service = IMPORT_SERVICE.get(kind)
    if service is None:
        raise fail(f"未知导入类型 unknown kind {kind!r}: one of {', '.join(IMPORT_SERVICE)}")
    with gateway(url) as api:
        with file.open("rb") as content:
            started = api.call(
                "POST",
                f"/{service}/imports",
                params={"kind": kind, "mode": mode} | ({"region": region} if region else {}),
                files={"file": (file.name, content)},
                ok=(200, 201, 202),
            )
        job = follow_import(api, str(started["id"]), service)
    errors = job.get("errors") or []
    if errors:
        table = Table("row", "column", "value", "reason", "rule", title=f"{job.get('error_count', len(errors))} errors")
        for error in errors[:50]:
            table.add_row(
                str(error.get("row", "")),
                str(error.get("header") or error.get("column") or ""),
                str(error.get("value") or ""),
                f"{error.get('detail_zh') or ''} {error.get('detail_en') or ''}".strip(),
                str(error.get("rule") or ""),
            )
        console.print(table)
    console.print(f"import {job['id']}: {job['status']}, {job.get('rows_done')}/{job.get('rows_total')} rows")
    if job["status"] in ("failed", "rejected") or job.get("error_count"):
        raise typer.Exit(1)


def follow_import(api: Api, import_id: str, service: str = "roster") -> dict[str, Any]:
    """Poll ``GET /{service}/imports/{id}`` until it is no longer running, with a progress bar."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("importing", total=None)
        while True:
            job: dict[str, Any] = api.call("GET", f"/{service}/imports/{import_id}")
            progress.update(task, total=job.get("rows_total"), completed=job.get("rows_done") or 0)
            if job.get("status") not in RUNNING_IMPORT:
                return job
            time.sleep(POLL_SECONDS)


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    ndjson = "ndjson"


@export.command("workers")
def export_workers(
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    format: Annotated[Format, typer.Option("--format")] = Format.csv,
    region: Annotated[str | None, typer.Option(help="区划 region code (default: the caller's scope)")] = None,
    url: Url = None,
) -> None:
    """导出社工 the workers of a region (masked as the API masks them) as CSV, XLSX or NDJSON."""
    params: dict[str, Any] = {"region": region} if region else {}
    with gateway(url) as api:
        count = _export(api, "/roster/workers", params, format, out)
    console.print(f"[green]✓[/green] {count if count is not None else 'all'} workers → {out}")


def _export(api: Api, path: str, params: dict[str, Any], format: Format, out: Path) -> int | None:
    """The server's own export (``?format=``), streamed to the file; from a server that answers JSON pages
    instead, the pages written here (CSV and NDJSON only)."""
    with api.client.stream(
        "GET", path, params=params | {"format": format.value}, headers={"Authorization": f"Bearer {api.token}"}
    ) as response:
        if response.status_code != 200:
            response.read()
            raise ApiError(response)
        if not response.headers.get("content-type", "").startswith("application/json"):
            with out.open("wb") as target:
                for chunk in response.iter_bytes():
                    target.write(chunk)
            return None
    if format == Format.xlsx:
        raise ApiError(httpx.Response(406, text="this server cannot export XLSX yet (no ?format= support)"))
    rows = list(api.pages(path, params))
    with out.open("w", encoding="utf-8", newline="") as target:
        if format == Format.ndjson:
            for row in rows:
                target.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            columns = sorted({key for row in rows for key in row})
            writer = csv.DictWriter(target, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in row.items()}
                )
    return len(rows)


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}" if value is not None else "—"


def _run_table(run: dict[str, Any]) -> Table:
    table = Table("run", "region", "month", "status", "workers", "gross 应发", "net 实发", "employer 单位")
    table.add_row(
        str(run["id"]),
        run["region_code"],
        run["month"],
        run["status"],
        str(run.get("workers") or 0),
        _money(run.get("gross_total")),
        _money(run.get("net_total")),
        _money(run.get("employer_total")),
    )
    return table


@payroll.command("run")
def payroll_run(
    region: Annotated[str, typer.Option(help="区划 region code")],
    month: Annotated[str, typer.Option(help="月份 YYYY-MM")],
    overlap: Annotated[str, typer.Option(help="refuse or exclude workers another run of the month pays")] = "refuse",
    url: Url = None,
) -> None:
    """核算 create (or reuse the draft of) a run, calculate it, follow it until calculated, print its totals."""
    with gateway(url) as api:
        run = _draft_run(api, region, month)
        api.call(
            "POST", f"/compensation/payroll-runs/{run['id']}/calculate", params={"overlap": overlap}, ok=(200, 202)
        )
        with console.status("calculating…"):
            while True:
                run = api.call("GET", f"/compensation/payroll-runs/{run['id']}")
                if run["status"] != "calculating":
                    break
                time.sleep(POLL_SECONDS)
    console.print(_run_table(run))
    if run["status"] != "calculated":
        raise fail(f"run {run['id']} is {run['status']}: {run.get('failure') or ''}")


def _draft_run(api: Api, region: str, month: str) -> dict[str, Any]:
    response = api.request("POST", "/compensation/payroll-runs", json={"region_code": region, "month": month})
    if response.status_code == 201:
        created: dict[str, Any] = response.json()
        return created
    if response.status_code == 409:
        for run in api.pages("/compensation/payroll-runs", {"region_code": region, "month": month}):
            if run["status"] in ("draft", "calculated", "failed"):
                found: dict[str, Any] = run
                return found
    raise ApiError(response)


@payroll.command("approve")
def payroll_approve(run_id: Annotated[str, typer.Argument(help="the run")], url: Url = None) -> None:
    """审批 approve a calculated run."""
    with gateway(url) as api:
        run = api.call("POST", f"/compensation/payroll-runs/{run_id}/approve")
    console.print(_run_table(run))


@cycle.command("close")
def cycle_close(cycle_id: Annotated[str, typer.Argument(help="the cycle")], url: Url = None) -> None:
    """关闭考核 close a cycle: scores, grades, the 优秀 cap (E3); print the results by rank."""
    with gateway(url) as api:
        results = api.call("POST", f"/evaluation/cycles/{cycle_id}/close")
    table = Table("rank", "worker", "score", "grade", "capped", title=f"cycle {cycle_id}")
    for r in results:
        table.add_row(
            str(r.get("rank")), str(r["worker_id"]), str(r.get("score")), r["grade"], "✓" if r.get("capped") else ""
        )
    console.print(table)


@report.command("staffing")
def report_staffing(
    region: Annotated[str, typer.Option(help="区划 region code")],
    date: Annotated[str | None, typer.Option(help="日期 YYYY-MM-DD (default today)")] = None,
    url: Url = None,
) -> None:
    """配备合规 staffing compliance of a region (S1–S8, P2, P3) as a table."""
    with gateway(url) as api:
        data = api.call("GET", "/roster/reports/staffing", params={"region": region} | ({"date": date} if date else {}))
    table = Table(
        "code",
        "name",
        "kind",
        "households",
        "required 应配",
        "actual 实配",
        "findings",
        title=f"{region} {data['date']}",
    )
    for c in data["communities"]:
        findings = ", ".join(
            f"{f['rule']}" + (f" {f.get('expected')}→{f.get('actual')}" if f.get("expected") is not None else "")
            for f in c["findings"]
        )
        style = "red" if c["findings"] else None
        table.add_row(
            c["code"],
            c["name"],
            str(c.get("kind") or ""),
            str(c.get("households") or ""),
            str(c["required"]),
            str(c["actual"]),
            findings,
            style=style,
        )
    console.print(table)
    for quota in data.get("quotas", []):
        console.print(f"quota {quota['county_code']}: {quota['used']}/{quota['headcount']} (S5)")
    console.print(f"{data['findings']} findings")


@app.command()
def demo(
    county: Annotated[str, typer.Option(help="区县 the demo district's county code")] = "331002",
    url: Url = None,
) -> None:
    """演示数据 the demo district (deploy/local/demo.py) through the API; running it twice is safe."""
    from deploy.local.demo import load

    with (
        Api(url) as api,
        httpx.Client(
            base_url=f"{api.url}/api/v1", headers={"Authorization": f"Bearer {api._fresh_token()}"}, timeout=60
        ) as client,
        console.status(f"loading the demo district {county}…"),
    ):
        load(client, county)
    console.print(f"[green]✓[/green] demo data in {county}: `shegong report staffing --region {county}`")


def main() -> None:
    app()
