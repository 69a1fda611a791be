"""Clients generated from the committed contracts work: openapi-python-client, no warning, typed responses.

Each service's contract and the merged document of the gateway (what a platform integrating with the
suite downloads) generate a package named for what it is (``shegong_roster_client``, not the title),
with every response parsed into its model. The tool's ruff post-hooks run with the project's own ruff.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.gateway.openapi_merge import committed_document, merge_documents
from shared.migrations import SERVICE_NAMES

BIN = Path(sys.executable).parent


def _document(name: str) -> dict[str, Any]:
    if name == "merged":
        services = {s: committed_document(s) for s in SERVICE_NAMES if s != "gateway"}
        return merge_documents(committed_document("gateway"), services)
    return committed_document(name)


# A typed response each client must have: the module of one operation and the model it returns.
TYPED = {
    "roster": ("api.workers.workers_get_worker", "WorkerOut.from_dict"),
    "compensation": ("api.policy.policy_get_scale", "ScaleOut.from_dict"),
    "evaluation": ("api.assessment.assessment_get_scheme", "SchemeOut.from_dict"),
    "gateway": ("api.identity.identity_get_user", "UserOut.from_dict"),
    "merged": ("api.roster_workers.roster_workers_get_worker", "WorkerOut.from_dict"),
}


@pytest.mark.parametrize("name", [*SERVICE_NAMES, "merged"])
def test_python_client_generates_without_warnings(name: str, tmp_path: Path) -> None:
    package = "shegong_client" if name == "merged" else f"shegong_{name}_client"
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(_document(name), ensure_ascii=False), encoding="utf-8")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"package_name_override": package, "project_name_override": package}))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [
        str(BIN / "openapi-python-client"),
        "generate",
        "--path",
        str(spec),
        "--output-path",
        str(tmp_path / package),
    ]
    result = subprocess.run(
        [*command, "--meta", "none", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    module, model = TYPED[name]
    source = (tmp_path / package / Path(*module.split("."))).with_suffix(".py").read_text(encoding="utf-8")
    assert model in source, f"{module} lost its response type"
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.import_module(f"{package}.{module}")
    finally:
        sys.path.remove(str(tmp_path))
        for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[loaded]


CLIENTS = Path(__file__).resolve().parents[2] / "clients"
NODE_BIN = CLIENTS / "node_modules" / ".bin"
# A response type each TypeScript client must carry: a path, its method, and the component it returns.
TS_TYPED = {
    "roster": ("/v1/workers/{worker_id}", "get", "WorkerOut"),
    "compensation": ("/v1/payroll-runs/{run_id}", "get", "RunOut"),
    "evaluation": ("/v1/schemes/{county_code}/{year}", "get", "SchemeOut"),
    "gateway": ("/api/v1/identity/users/{user_id}", "get", "UserOut"),
    "merged": ("/api/v1/compensation/payroll-runs/{run_id}", "get", "RunOut"),
}


@pytest.mark.parametrize("name", [*SERVICE_NAMES, "merged"])
def test_typescript_types_generate_and_type_check(name: str, tmp_path: Path) -> None:
    """openapi-typescript (pinned in clients/package-lock.json, installed by ``make install``) writes the
    types of each contract without a warning, and a strict ``tsc`` accepts code that uses a response type."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(_document(name), ensure_ascii=False), encoding="utf-8")
    generated = subprocess.run(
        [str(NODE_BIN / "openapi-typescript"), str(spec), "-o", str(tmp_path / "api.ts")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    assert "warn" not in (generated.stdout + generated.stderr).lower(), generated.stdout + generated.stderr
    path, method, component = TS_TYPED[name]
    (tmp_path / "use.ts").write_text(
        'import type { paths, components } from "./api";\n'
        f'type Declared = components["schemas"]["{component}"];\n'
        f'type Answered = paths["{path}"]["{method}"]["responses"][200]["content"]["application/json"];\n'
        "const same: Answered extends Declared ? true : false = true;\n"
        "export { same };\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [str(NODE_BIN / "tsc"), "--noEmit", "--strict", str(tmp_path / "use.ts")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
