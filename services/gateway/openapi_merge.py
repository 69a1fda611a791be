"""The merged OpenAPI document the gateway serves at ``/openapi.json``.

Each service's own document (fetched live, cached for ``openapi_cache_seconds``; the committed
``services/<name>/openapi.json`` when the service cannot be reached) is mounted under
``/api/v1/<service>``: ``/v1/events`` of roster becomes ``/api/v1/roster/events``, each operation declaring
the gateway's 429. Component schemas
that two services define differently are renamed ``<Service><Name>`` (title too), as are those that
refer to a renamed one; identical ones are shared.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from pathlib import Path
from typing import Any

import httpx

from services.gateway.upstreams import replicas
from shared.http_client import request_with_retries
from shared.service_app import rate_limited_response

SERVICES_DIR = Path(__file__).resolve().parent.parent
REF_PREFIX = "#/components/schemas/"


def committed_document(service: str) -> dict[str, Any]:
    """The contract committed in the repository (kept equal to the code by a drift test)."""
    doc: dict[str, Any] = json.loads((SERVICES_DIR / service / "openapi.json").read_text(encoding="utf-8"))
    return doc


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value[len(REF_PREFIX) :]
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _renames(service: str, own: dict[str, Any], schemas: dict[str, Any]) -> dict[str, str]:
    """The service's schemas that differ from the same-named ones already merged, and (to a fixed point)
    those that only refer to one of them: ``Page_ImportJobOut_`` of two services is the same text but
    not the same schema when their ``ImportJobOut`` differ."""
    renames: dict[str, str] = {}
    while True:
        found = {
            name: f"{service.capitalize()}{name}"
            for name, schema in own.items()
            if name in schemas and schemas[name] != _rewrite_refs(schema, renames)
        }
        if found == renames:
            return renames
        renames = found


def merge_documents(gateway_doc: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Mount each service's ``/v1/…`` paths under ``/api/v1/<service>/…`` in the gateway's document."""
    merged = copy.deepcopy(gateway_doc)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    schemas: dict[str, Any] = merged.setdefault("components", {}).setdefault("schemas", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    for service, doc in services.items():
        own_schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
        renames = _renames(service, own_schemas, schemas)
        for name, schema in own_schemas.items():
            rewritten = _rewrite_refs(schema, renames)
            if name in renames and "title" in rewritten:
                rewritten["title"] = renames[name]  # generators name their classes by the title
            schemas[renames.get(name, name)] = rewritten
        seen_tags: set[str] = set()
        for path, item in doc.get("paths", {}).items():
            if not path.startswith("/v1/"):
                continue  # health and readiness are each service's own business
            item = _rewrite_refs(item, renames)
            for operation in item.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                operation["operationId"] = f"{service}-{operation['operationId']}"
                # The gateway's rate limits apply to every routed operation.
                operation.setdefault("responses", {}).setdefault("429", rate_limited_response())
                operation["tags"] = [f"{service} · {tag}" for tag in operation.get("tags", ["default"])]
                seen_tags.update(operation["tags"])
            paths[f"/api/v1/{service}{path[len('/v1') :]}"] = item
        tags.extend(
            {"name": tag, "description": f"{service}: {doc.get('info', {}).get('title', '')}"}
            for tag in sorted(seen_tags)
        )
    return merged


class MergedOpenAPI:
    """Builds and caches the merged document."""

    def __init__(self, upstreams: dict[str, str], cache_seconds: float) -> None:
        self.upstreams = upstreams
        self.cache_seconds = cache_seconds
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0

    async def fetch(self, client: httpx.AsyncClient, service: str, base: str) -> tuple[dict[str, Any], bool]:
        """The service's live document (from the first of its replicas that answers), or the committed one
        (``False``) when none does."""
        for replica in replicas(base):
            try:
                response = await request_with_retries(client, "GET", f"{replica}/openapi.json", attempts=1)
                if response.status_code == 200:
                    live: dict[str, Any] = response.json()
                    return live, True
            except (httpx.HTTPError, ValueError):
                pass
        return committed_document(service), False

    async def document(self, client: httpx.AsyncClient, gateway_doc: dict[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        if self._cached is not None and now - self._cached_at < self.cache_seconds:
            return self._cached
        results = await asyncio.gather(*(self.fetch(client, s, base) for s, base in self.upstreams.items()))
        docs = {service: doc for service, (doc, _) in zip(self.upstreams, results, strict=True)}
        offline = [service for service, (_, live) in zip(self.upstreams, results, strict=True) if not live]
        merged = merge_documents(gateway_doc, docs)
        if offline:
            merged["info"]["x-services-from-committed-contract"] = offline
        else:
            # Only a document built from live services is cached: a service coming back shows at once.
            self._cached, self._cached_at = merged, now
        return merged


def document_part(document: dict[str, Any], part: str, services: list[str]) -> dict[str, Any]:
    """The merged document narrowed to one service's operations (``/api/v1/<service>/…``) or, for
    ``gateway``, to the gateway's own; components stay whole. An unknown part has no operations."""
    prefixes = tuple(f"/api/v1/{service}/" for service in services)
    if part == "gateway":
        paths = {p: item for p, item in document["paths"].items() if not p.startswith(prefixes)}
    else:
        paths = {p: item for p, item in document["paths"].items() if p.startswith(f"/api/v1/{part}/")}
    used = {
        tag for item in paths.values() for op in item.values() if isinstance(op, dict) for tag in op.get("tags", [])
    }
    tags = [t for t in document.get("tags", []) if t.get("name") in used]
    return document | {"paths": paths, "tags": tags}
