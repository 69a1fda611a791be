"""What every benchmark module shares: the result row, the machine, a timer, and an app with a token.

A benchmark module (``benchmarks/<path>.py``) is found by the runner (``python -m benchmarks``) when it
defines ``NAME`` (a short id for ``--only``) and ``async def run(size: int | None, full: bool) ->
list[Result]``: ``size`` is the module's own size argument (workers, events, seconds …), ``None`` for its
default (small, or the issue's size with ``full``). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from services.gateway.keys import SigningKeys
from services.gateway.tokens import issue_access_token
from shared.auth import Grant, Principal, Role, TokenVerifier

T = TypeVar("T")


@dataclass
class Result:
    """One row of the table: a figure of the product beside the floor measured in the same run on the same data.

    ``higher_is_better``: the figure is a throughput (events/s, requests/s), so the ratio is floor ÷ product
    read as "times slower than the floor" all the same: ``ratio`` is always ≥ 1 when the product is slower.
    """

    path: str
    size: str
    figure: float
    unit: str
    floor_label: str = ""
    floor: float | None = None
    higher_is_better: bool = False
    target: str = ""
    met: bool | None = None
    checks: list[str] = field(default_factory=list)  # what was verified in this run, e.g. "totals to the cent"
    checks_passed: bool = True
    peak_rss_mib: float = 0.0
    runs: int = 1
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.floor or not self.figure:
            return None
        return self.floor / self.figure if self.higher_is_better else self.figure / self.floor

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}


def peak_rss_mib() -> float:
    """Peak resident memory of this process (the one doing the work: the app runs in-process)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mib() -> float:
    """Peak resident memory of the largest waited-for child (servers started as processes)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        ram = "?"
    try:
        pg = subprocess.run(["postgres", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        pg = ""
    if not pg:
        from deploy.local.postgres import find_binaries

        pg = subprocess.run(
            [str(find_binaries() / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": platform.python_version(),
        "postgresql": pg,
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


async def timed(action: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    started = time.perf_counter()
    value = await action()
    return time.perf_counter() - started, value


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def bench_token(keys_dir: Path, *grants: tuple[Role, str], subject: str = "user:bench", ttl: int = 3600) -> str:
    keys = SigningKeys(keys_dir)
    return issue_access_token(keys, Principal(subject, "bench", tuple(Grant(r, g) for r, g in grants)), ttl)


def trust_keys(app: Any, keys_dir: Path) -> None:
    """The in-process app verifies tokens signed with the benchmark's own key (no gateway to ask)."""
    keys = SigningKeys(keys_dir)

    async def jwks() -> dict[str, object]:
        return keys.jwks()

    app.state.token_verifier = TokenVerifier(jwks)


def render(results: Sequence[Result], info: dict[str, str]) -> str:
    """The table the runner prints (Markdown, so it pastes into docs/benchmarks.md)."""
    lines = [
        f"machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, Python {info['python']}, "
        f"{info['postgresql']}; load average at start {info['load']}",
        "",
        "| path | size | figure | floor (same run, same data) | ratio | target | met | checks | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: |",
    ]
    for r in results:
        floor = f"{r.floor_label}: {_num(r.floor)} {r.unit}" if r.floor is not None else (r.floor_label or "—")
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "—"
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        checks = ("ok: " if r.checks_passed else "**FAILED**: ") + "; ".join(r.checks) if r.checks else "—"
        runs = f" (median of {r.runs})" if r.runs > 1 else ""
        lines.append(
            f"| {r.path} | {r.size} | {_num(r.figure)} {r.unit}{runs} | {floor} | {ratio} | {r.target} | {met} | "
            f"{checks} | {r.peak_rss_mib:.0f} MiB |"
        )
    notes = [f"- {r.path}: {r.notes}" for r in results if r.notes]
    return "\n".join(lines + (["", *notes] if notes else []))


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"
