"""Each service's committed OpenAPI contract, ``services/<name>/openapi.json`` (ARCHITECTURE rule 3).

``python -m shared.openapi_contract write`` rewrites the files from the code; the drift test fails
when the code and a committed file differ. For the gateway the contract covers its own operations;
the merged document it serves is built from the services' contracts at run time.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from shared.migrations import SERVICE_NAMES, SERVICES_DIR


def contract_path(service: str) -> Path:
    return SERVICES_DIR / service / "openapi.json"


def generated_contract(service: str) -> dict[str, Any]:
    """What the service's code serves now."""
    module = importlib.import_module(f"services.{service}.app")
    document: dict[str, Any] = module.create_app().openapi()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if argv != ["write"]:
        print("usage: python -m shared.openapi_contract write", file=sys.stderr)
        return 2
    for service in SERVICE_NAMES:
        contract_path(service).write_text(render(generated_contract(service)), encoding="utf-8")
        print(f"wrote {contract_path(service)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
