"""The merged OpenAPI document: service paths mounted under /api/v1/<service>, schemas kept apart."""

from typing import Any

from services.gateway.openapi_merge import committed_document, merge_documents


def doc(title: str, schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": title}, "paths": paths, "components": {"schemas": schemas}}


def op(ref: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": "workers-list",
            "tags": ["workers"],
            "responses": {
                "200": {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}
            },
        }
    }


def test_paths_are_mounted_and_conflicting_schemas_renamed() -> None:
    gateway = doc("gw", {"ProblemDetails": {"type": "object"}}, {"/healthz": {}})
    roster = doc(
        "roster",
        {"ProblemDetails": {"type": "object"}, "Page": {"properties": {"a": {}}}},
        {"/v1/workers": op("Page"), "/readyz": {"get": {"operationId": "r"}}},
    )
    evaluation = doc(
        "evaluation",
        {"ProblemDetails": {"type": "object"}, "Page": {"properties": {"b": {}}}},
        {"/v1/cycles": op("Page")},
    )
    merged = merge_documents(gateway, {"roster": roster, "evaluation": evaluation})

    assert set(merged["paths"]) == {"/healthz", "/api/v1/roster/workers", "/api/v1/evaluation/cycles"}
    schemas = merged["components"]["schemas"]
    # Identical schemas are shared; different ones with the same name are kept apart.
    assert set(schemas) == {"ProblemDetails", "Page", "EvaluationPage"}
    cycles = merged["paths"]["/api/v1/evaluation/cycles"]["get"]
    assert cycles["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/EvaluationPage"
    )
    assert cycles["operationId"] == "evaluation-workers-list"
    assert cycles["tags"] == ["evaluation · workers"]
    assert gateway["paths"] == {"/healthz": {}}  # inputs are not modified


def test_committed_contracts_merge_without_dangling_references() -> None:
    services = {name: committed_document(name) for name in ("roster", "compensation", "evaluation")}
    merged = merge_documents(committed_document("gateway"), services)
    text = repr(merged)
    schemas = merged["components"]["schemas"]
    refs = {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}
    assert refs <= set(schemas)
    assert "/api/v1/roster/events" in merged["paths"]
