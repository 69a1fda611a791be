"""``python -m benchmarks`` (``make bench``): every hot path beside its floor, one table.

Each benchmark module runs in its own process (so each row's peak RSS is that path's own), one after
the other; its rows come back as JSON on the line marked ``RESULT-JSON``. Small sizes by default;
``--full`` for the issue's sizes (#16); ``--size NAME=N`` for one module's size; ``--only`` to pick.

    .venv/bin/python -m benchmarks [--full] [--only payroll,feed] [--size payroll=20000] [--minutes 10]
                                   [--json results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from benchmarks.common import Result, machine, render
from shared.migrations import SERVICE_NAMES
from shared.serve import freeze_startup_heap

ROOT = Path(__file__).resolve().parents[1]
MARK = "RESULT-JSON "
NOT_BENCHMARKS = {"common", "__main__"}


def discover() -> dict[str, ModuleType]:
    """Every module of this package that defines ``NAME`` and ``run`` (the convention of README.md)."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name in NOT_BENCHMARKS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    # ORDER (optional, default 50) puts the modules in a sensible reading order; then by name.
    return dict(sorted(found.items(), key=lambda kv: (getattr(kv[1], "ORDER", 50), kv[0])))


def child(name: str, size: int | None, full: bool) -> int:
    """Run one module in this process and hand its rows back to the parent."""
    module = discover()[name]
    for service in SERVICE_NAMES:  # the heap of a served process (shared.serve), every service imported
        freeze_startup_heap(service)
    outcome = module.run(size, full)
    results: list[Result] = asyncio.run(outcome) if asyncio.iscoroutine(outcome) else outcome
    print(MARK + json.dumps([r.as_json() for r in results]), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes (1,000,000 workers/events, …)")
    parser.add_argument("--only", default="", help="comma-separated NAMEs (default: every module)")
    parser.add_argument("--size", action="append", default=[], metavar="NAME=N", help="a module's size")
    parser.add_argument("--minutes", type=float, help="the mixed load's duration (default 1, 10 with --full)")
    parser.add_argument("--json", type=Path, help="also write the rows and the machine to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = {k: int(v) for k, v in (item.split("=", 1) for item in args.size)}
    if args.minutes is not None:
        sizes.setdefault("mixed", int(args.minutes * 60))
    if args.child:
        return child(args.child, sizes.get(args.child), args.full)

    modules = discover()
    chosen = [n for n in args.only.split(",") if n] or list(modules)
    unknown = [n for n in chosen if n not in modules]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {sorted(modules)}")
    info = machine()
    results: list[Result] = []
    failed: list[str] = []
    for name in chosen:
        command = [sys.executable, "-m", "benchmarks", "--child", name] + (["--full"] if args.full else [])
        command += [f"--size={k}={v}" for k, v in sizes.items() if k == name]
        print(f"== {name}", flush=True)
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        rows: list[Result] = []
        for line in proc.stdout:
            if line.startswith(MARK):
                for item in json.loads(line[len(MARK) :]):
                    item.pop("ratio", None)
                    rows.append(Result(**item))
            else:
                print("   " + line, end="", flush=True)
        if proc.wait() != 0 or not rows:
            failed.append(name)
        results += rows
    table = render(results, info)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "rows": [r.as_json() for r in results]}, indent=1))
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0 if all(r.checks_passed for r in results) else 2


if __name__ == "__main__":
    raise SystemExit(main())
