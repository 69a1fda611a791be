"""The app factory every service builds on: lifespan, errors, request ids, health, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy import MetaData

from shared import import_jobs, tracing
from shared.api_docs import install_api_docs
from shared.auth import TokenVerifier, http_jwks_source, roles_of_route
from shared.background import running
from shared.concurrency import check_if_match
from shared.db import DatabaseUnavailableMiddleware, make_engine, make_read_engine, make_sessionmaker
from shared.feed_consumer import FeedConsumer
from shared.glossary import apply_glossary
from shared.health import health_router
from shared.http_client import make_http_client
from shared.idempotency import IDEMPOTENCY_KEY_PARAMETER, IdempotencyMiddleware
from shared.inputs import NulCharacterMiddleware
from shared.metrics import install_metrics
from shared.migrations import head_revision, known_revisions
from shared.problems import (
    STANDARD_PROBLEMS,
    FieldError,
    ProblemDetails,
    install_problem_handlers,
    problem_responses,
)
from shared.request_context import RequestIdMiddleware
from shared.service_auth import ServiceCredentials
from shared.settings import ServiceSettings

API_VERSION = "0.1.0"


def stable_operation_id(route: APIRoute) -> str:
    """``<tag>-<function name>``: operation ids that do not churn when paths change."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


class EnumLabels(BaseModel):
    """Codes and their zh-CN labels, per enum."""

    enums: dict[str, dict[str, str]] = Field(
        description="枚举 enum name → code → 中文标签 (codes are what the API takes and returns)"
    )


def meta_router(enums: dict[str, dict[str, str]]) -> APIRouter:
    router = APIRouter(prefix="/v1/meta", tags=["meta"])

    @router.get("/enums", summary="枚举代码与中文标签 enum codes and their zh-CN labels", response_model=EnumLabels)
    async def list_enums() -> EnumLabels:
        return EnumLabels(enums=enums)

    return router


def _add_problem_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    ref = "#/components/schemas/{model}"
    for model in (FieldError, ProblemDetails):
        json_schema = model.model_json_schema(ref_template=ref)
        json_schema.pop("$defs", None)
        components[model.__name__] = json_schema
    return schema


def _mark_roles(app: FastAPI, document: dict[str, Any]) -> None:
    """Write the roles each operation admits into its OpenAPI entry (``x-roles`` and the description)."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context  # the route as included (prefix, dependencies of the router applied)
        if not route.include_in_schema:
            continue
        roles = roles_of_route(route.dependant)
        if not roles:
            continue
        for method in route.methods:
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            operation["x-roles"] = roles
            # an operation that admits roles answers 401 without a valid token and 403 for other roles
            for status, entry in problem_responses(401, 403).items():
                operation.setdefault("responses", {}).setdefault(str(status), entry)
            note = "允许的角色 roles admitted: " + ", ".join(roles)
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()


IF_MATCH_PARAMETER: dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "前置条件 the ETag of the resource as read (strong comparison; 428 when missing, 412 when stale)",
    "schema": {"type": "string"},
}


def _calls(route: APIRoute, function: Callable[..., Any]) -> bool:
    """Whether the route's endpoint calls ``function`` by name (its code refers to the global)."""
    code = getattr(route.endpoint, "__code__", None)
    return code is not None and function.__name__ in code.co_names


def _add_parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    if not any(p["name"].lower() == parameter["name"].lower() and p["in"] == parameter["in"] for p in parameters):
        parameters.append(dict(parameter))


def _add_problems(operation: dict[str, Any], *statuses: int) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, entry in problem_responses(*statuses).items():
        responses.setdefault(str(status), entry)


def rate_limited_response() -> dict[str, Any]:
    """The 429 every rate-limited operation may answer, with its ``Retry-After``."""
    entry = problem_responses(429)[429]
    entry["headers"] = {
        "Retry-After": {"description": "重试等待秒数 seconds to wait before retrying", "schema": {"type": "integer"}}
    }
    return entry


def _declare_protocol(
    app: FastAPI, document: dict[str, Any], idempotent_posts: bool, rate_limit_exempt: frozenset[str] | None
) -> None:
    """Declare what the shared machinery does to every operation, so the contract tells the truth.

    - a request body that cannot be parsed (not UTF-8, not a form) answers 400;
    - a list with a ``cursor`` answers 400 for a cursor that is not one of its own (``shared.pagination``);
    - a POST of a signed-in caller takes ``Idempotency-Key`` (422 for a bad key or another body under the
      same key, 409 while the first request runs: ``shared.idempotency``);
    - an operation whose endpoint calls ``check_if_match`` requires ``If-Match`` (412 stale, 428 missing);
    - behind rate limits (the gateway), every operation but the exempt paths may answer 429.
    """
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context
        if not route.include_in_schema:
            continue
        for method in route.methods:
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if "requestBody" in operation:
                _add_problems(operation, 400)
            if any(p["name"] == "cursor" and p["in"] == "query" for p in operation.get("parameters", [])):
                _add_problems(operation, 400)
            if method == "POST" and idempotent_posts and operation.get("x-roles"):
                _add_parameter(operation, IDEMPOTENCY_KEY_PARAMETER)
                _add_problems(operation, 409, 422)
            if _calls(context.original_route, check_if_match):
                _add_parameter(operation, IF_MATCH_PARAMETER)
                _add_problems(operation, 412, 428)
            if rate_limit_exempt is not None and route.path_format not in rate_limit_exempt:
                operation["responses"].setdefault("429", rate_limited_response())


def create_service_app(
    *,
    title: str,
    description: str,
    settings: ServiceSettings,
    metadata: MetaData,
    routers: Sequence[APIRouter],
    extra_lifespan: Callable[[FastAPI], Any] | None = None,
    liveness_path: str = "/healthz",
    serve_openapi: bool = True,
    middleware: Sequence[tuple[Any, dict[str, Any]]] = (),
    feeds: Callable[[FastAPI], list[FeedConsumer]] | None = None,
    rate_limit_exempt: frozenset[str] | None = None,
) -> FastAPI:
    """Build one service's app. ``metadata.schema`` is the service's PostgreSQL schema and its name (its
    migrations, logs, metrics, traces and health report go by it).

    The gateway moves liveness to ``/livez`` (its ``/healthz`` reports every service), serves a
    merged OpenAPI document of its own instead of FastAPI's (``serve_openapi=False``) and adds its rate
    limits as ``middleware`` (placed inside the request-id middleware); ``rate_limit_exempt`` (the paths its
    limits leave alone) makes every other operation declare 429.
    """
    schema = metadata.schema
    assert schema
    name = schema

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(settings)
        app.state.sessionmaker = make_sessionmaker(app.state.engine)
        # Read-only reports (shared.db.ReadSessionDep): the replica's sessions, or None for the primary's.
        app.state.read_engine = make_read_engine(settings)
        app.state.read_sessionmaker = make_sessionmaker(app.state.read_engine) if app.state.read_engine else None
        app.state.http = make_http_client(settings)
        if app.state.tracer_provider is not None:
            tracing.instrument_engine(app.state.engine, app.state.tracer_provider)
            tracing.instrument_httpx(app.state.http, app.state.tracer_provider)
        # This service's own credentials for calling the others (None when it has no API client).
        app.state.service_credentials = ServiceCredentials.from_settings(app.state.http, settings)
        if not hasattr(app.state, "token_verifier"):
            app.state.token_verifier = TokenVerifier(http_jwks_source(app.state.http, settings.jwks_url))
        app.state.feeds = feeds(app) if feeds is not None else []
        loops = [f.run(settings.feed_poll_seconds) for f in app.state.feeds] if settings.feeds_enabled else []
        try:
            async with running(*loops), extra_lifespan(app) if extra_lifespan else nullcontext():
                try:
                    yield
                finally:
                    await import_jobs.drain()  # the import runs this process started finish (issue #13)
        finally:
            await app.state.http.aclose()
            await app.state.engine.dispose()
            if app.state.tracer_provider is not None:
                app.state.tracer_provider.force_flush()
            if app.state.read_engine is not None:
                await app.state.read_engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version=API_VERSION,
        lifespan=lifespan,
        generate_unique_id_function=stable_operation_id,
        # One schema per model, not ``X-Input``/``X-Output``: generated clients (openapi-python-client) lose
        # the response types of a split model.
        separate_input_output_schemas=False,
        openapi_url="/openapi.json" if serve_openapi else None,
        docs_url=None,  # Swagger UI 5 and Redoc from the suite's own files (shared.api_docs)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service_name = name
    app.state.migration_head = head_revision(name)
    app.state.migration_revisions = known_revisions(name)
    database_away = {"retry_after_seconds": settings.db_unavailable_retry_after_seconds}
    app.add_middleware(DatabaseUnavailableMiddleware, **database_away)  # innermost: the routes' errors
    install_problem_handlers(app)
    idempotency = metadata.tables.get(f"{schema}.idempotency_keys")
    if idempotency is not None:
        app.add_middleware(IdempotencyMiddleware, table=idempotency)
    for middleware_class, options in middleware:  # inside the request id: their answers carry it
        app.add_middleware(middleware_class, **options)
    app.add_middleware(NulCharacterMiddleware)  # before anything stores or compares a string
    app.add_middleware(DatabaseUnavailableMiddleware, **database_away)  # the middlewares' own errors
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    install_metrics(app, service=name, schema=schema, outbox=metadata.tables.get(f"{schema}.events"))
    # Tracing, when the OTEL_* settings ask for it (shared.tracing): outermost, so every span is inside.
    app.state.tracer_provider = tracing.provider_for(name)
    if app.state.tracer_provider is not None:
        tracing.instrument_app(app, app.state.tracer_provider)
    app.include_router(health_router(name, schema, liveness_path=liveness_path))
    for router in routers:
        app.include_router(router, responses=STANDARD_PROBLEMS)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema_doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                separate_input_output_schemas=app.separate_input_output_schemas,
            )
            _mark_roles(app, schema_doc)
            _declare_protocol(app, schema_doc, idempotency is not None, rate_limit_exempt)
            app.openapi_schema = _add_problem_schemas(schema_doc)
            apply_glossary(app.openapi_schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if serve_openapi:
        install_api_docs(app, title=title)
    return app
