"""Each service's committed OpenAPI contract equals what its code serves (ARCHITECTURE rule 3).

On failure: ``make openapi`` rewrites the files; review the diff, it is a change of the public contract.
"""

import json

import pytest

from shared.migrations import SERVICE_NAMES
from shared.openapi_contract import contract_path, generated_contract, render


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_committed_contract_matches_the_code(service: str) -> None:
    committed = contract_path(service).read_text(encoding="utf-8")
    assert committed == render(generated_contract(service)), f"services/{service}/openapi.json drifted: make openapi"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_contract_documents_problem_responses_and_chinese_names(service: str) -> None:
    document = json.loads(contract_path(service).read_text(encoding="utf-8"))
    assert "ProblemDetails" in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["operationId"], (path, method)
            # Every summary names the operation in Chinese and in English.
            assert any("\u4e00" <= ch <= "\u9fff" for ch in operation["summary"]), (path, method)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and "content" in response:
                    assert set(response["content"]) <= {"application/problem+json", "application/json"}


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_field_and_parameter_has_its_chinese_name(service: str) -> None:
    """CONVENTIONS: every field's description carries its Chinese name (shared.glossary fills the common ones)."""
    document = json.loads(contract_path(service).read_text(encoding="utf-8"))
    missing = [
        f"{name}.{prop}"
        for name, schema in document["components"]["schemas"].items()
        for prop, spec in schema.get("properties", {}).items()
        if not _chinese(spec.get("description", ""))
    ]
    missing += [
        f"{path}?{parameter['name']}"
        for path, item in document["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if not _chinese(parameter.get("description", ""))
    ]
    assert missing == []
