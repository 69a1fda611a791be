"""Every list operation of every service can stream its list as CSV, .xlsx and NDJSON (shared/exports.py),
documented in its OpenAPI entry (the exports themselves: each service's tests, e.g.
services/roster/tests/test_list_exports.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.exports import MEDIA_TYPES
from shared.migrations import SERVICE_NAMES
from shared.openapi_contract import contract_path


def list_operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """GET operations answering a JSON array or a keyset page."""
    found = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        content = operation["responses"].get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if schema.get("type") == "array" or schema.get("$ref", "").split("/")[-1].startswith("Page_"):
            found.append((path, operation))
    return found


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_list_operation_documents_the_three_export_formats(service: str) -> None:
    operations = list_operations(json.loads(contract_path(service).read_text()))
    assert operations
    for path, operation in operations:
        content = operation["responses"]["200"]["content"]
        assert set(MEDIA_TYPES.values()) <= set(content), path
        names = {p["name"] for p in operation.get("parameters", [])}
        assert {"format", "charset"} <= names, path
