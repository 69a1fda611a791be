"""Every list operation of stored records (a keyset-paged ``Page``) documents ``updated_since`` (issue #13,
pull sync in commit order, ``shared.sync``), described the same way, with a ``cursor`` to follow on.

Lists computed on the fly (reports, a worker's few contracts or posts, answered as arrays) are not
paged and have no change order to follow. The lists below are not synced yet, each for its reason;
the test fails when one of them starts documenting ``updated_since`` (take it off) or a new paged
list does not (sync it, or say here why not)."""

import json
from typing import Any

import pytest

from shared.migrations import SERVICE_NAMES
from shared.openapi_contract import contract_path
from shared.sync import SYNC_DESCRIPTION

NOT_SYNCED = {
    # Bad cells are written once, with their job, and never change: follow the job list.
    ("roster", "/v1/imports/{job_id}/errors"),
    ("evaluation", "/v1/imports/{job_id}/errors"),
    ("compensation", "/v1/imports/{job_id}/errors"),
    # The gateway has no outbox, hence no commit order to follow its tables in.
    ("gateway", "/api/v1/audit/events"),
    ("gateway", "/api/v1/identity/users"),
    ("gateway", "/api/v1/webhooks/subscriptions"),
    ("gateway", "/api/v1/webhooks/subscriptions/{subscription_id}/deliveries"),
}


def _paged(operation: dict[str, Any]) -> bool:
    schema = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    return "#/components/schemas/Page_" in json.dumps(schema.get("schema", {}))


def _lists() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for service in SERVICE_NAMES:
        document = json.loads(contract_path(service).read_text(encoding="utf-8"))
        for path, item in document["paths"].items():
            operation = item.get("get")
            if operation is not None and _paged(operation):
                found.append((service, path, operation))
    return found


def test_there_are_paged_lists_to_check() -> None:
    assert {(s, p) for s, p, _ in _lists()} >= {
        ("roster", "/v1/workers"),
        ("roster", "/v1/regions/{code}/descendants"),
        ("evaluation", "/v1/visits"),
        ("compensation", "/v1/imports"),
    }


@pytest.mark.parametrize(("service", "path", "operation"), _lists(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_paged_list_documents_updated_since(service: str, path: str, operation: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in operation.get("parameters", [])}
    if (service, path) in NOT_SYNCED:
        assert "updated_since" not in parameters, f"{service} {path} is synced now: take it off NOT_SYNCED"
        return
    assert "updated_since" in parameters, f"{service} {path}: a paged list without updated_since"
    since = parameters["updated_since"]
    assert since["in"] == "query"
    assert since["description"] == SYNC_DESCRIPTION
    assert {"type": "string", "format": "date-time"} in since["schema"]["anyOf"]
    assert "cursor" in parameters
