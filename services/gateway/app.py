"""Gateway app factory: routing to the services, the merged OpenAPI and docs, the suite's health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from services.gateway.api import ROUTERS
from services.gateway.client_address import ClientAddresses
from services.gateway.console import install_console
from services.gateway.console.labels import CodeLabels
from services.gateway.keys import SigningKeys
from services.gateway.models import Base
from services.gateway.openapi_merge import MergedOpenAPI, document_part
from services.gateway.passwords import SecretHasher
from services.gateway.proxy import ProxyRoute, forward, make_proxy_session
from services.gateway.rate_limits import EXEMPT_PATHS, RateLimiter, RateLimitMiddleware
from services.gateway.revocation import CurrentTokenVerifier, TokenVersions
from services.gateway.settings import Settings
from services.gateway.upstreams import Balancer
from services.gateway.webhook_feeds import webhook_feeds
from services.gateway.webhook_network import webhook_client
from services.gateway.webhook_secrets import SecretBox
from services.gateway.webhook_sender import deliver_forever, sender_config
from services.gateway.webhooks import reseal_secrets
from shared.api_docs import install_api_docs
from shared.background import running
from shared.service_app import create_service_app
from shared.tracing import aiohttp_trace_configs

# Tokens whose signature the gateway remembers as verified (shared.auth.TokenVerifier): at most a few MB.
TOKENS_REMEMBERED = 20_000
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def proxy_lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys.current()  # no signing key: refuse to start, naming the command (never a 500 at the first sign-in)
        app.state.proxy_session = make_proxy_session(
            settings.proxy_max_connections,
            settings.proxy_connect_timeout_seconds,
            settings.proxy_read_timeout_seconds,
            aiohttp_trace_configs(app.state.tracer_provider),
        )
        # Webhooks go to the outside world: their own client, no redirects followed, addresses checked as it
        # connects (WH2).
        app.state.webhook_http = webhook_client(bool(settings.webhook_allow_loopback))
        # The feeds webhooks are made from, and their sender. Not app.state.feeds: a service that is down
        # delays its webhooks but must not make the suite's one entry unready (/readyz).
        app.state.webhook_feeds = webhook_feeds(app)
        # Secrets stored before sealing, or sealed with a key no longer first: sealed with the first key now.
        await reseal_secrets(app.state.sessionmaker, app.state.webhook_secrets)
        loops = []
        if settings.feeds_enabled:
            loops = [feed.run(settings.feed_poll_seconds) for feed in app.state.webhook_feeds]
            loops.append(
                deliver_forever(
                    lambda: app.state.sessionmaker,
                    app.state.webhook_http,
                    sender_config(settings, app.state.webhook_secrets),
                    settings.webhook_poll_seconds,
                )
            )
        try:
            async with running(*loops):
                yield
        finally:
            await app.state.webhook_http.aclose()
            await app.state.proxy_session.close()

    assert settings.signing_keys_dir is not None
    keys = SigningKeys(settings.signing_keys_dir, activation_seconds=settings.signing_key_activation_seconds)

    async def local_jwks() -> dict[str, Any]:
        return keys.jwks()

    # The gateway checks tokens with its own keys, no HTTP; the services fetch the same JWKS. It also
    # checks each token's version against its holder's (revocation at once; the services cannot).
    versions = TokenVersions(lambda: app.state.sessionmaker, settings.token_version_cache_seconds)
    verifier = CurrentTokenVerifier(
        local_jwks, versions=versions, refresh_seconds=30, min_refetch_seconds=1, cache_size=TOKENS_REMEMBERED
    )
    client_addresses = ClientAddresses(settings.trusted_proxies)
    limiter = RateLimiter(
        settings.rate_limit_window_seconds,
        lambda: app.state.sessionmaker,
        lease_share=settings.rate_limit_lease_share,
        lease_max=settings.rate_limit_lease_max,
    )
    rate_limits = {
        "limiter": limiter,
        "verifier": verifier,
        "user_limit": settings.rate_limit_user,
        "client_limit": settings.rate_limit_client,
        "anonymous_limit": settings.rate_limit_anonymous,
        "client_addresses": client_addresses,
    }
    proxy_route = Route("/api/v1/{service}/{path:path}", forward, methods=PROXY_METHODS, include_in_schema=False)
    app = create_service_app(
        title="shegong 社工 API",
        description=(
            "专职社区工作者管理系统的统一入口。The one public entry of the shegong suite: "
            "`/api/v1/roster/…`, `/api/v1/compensation/…` and `/api/v1/evaluation/…` are routed to the "
            "services; errors are RFC 9457 problem+json in zh-CN (default) or en by Accept-Language."
        ),
        settings=settings,
        metadata=Base.metadata,
        routers=ROUTERS,
        extra_lifespan=proxy_lifespan,
        liveness_path="/livez",
        serve_openapi=False,
        # Innermost first: the proxy's route is taken inside the rate limits, before the router.
        middleware=[
            (ProxyRoute, {"route": proxy_route, "services": settings.upstreams()}),
            (RateLimitMiddleware, rate_limits),
        ],
        rate_limit_exempt=EXEMPT_PATHS,
    )
    app.state.upstreams = settings.upstreams()
    app.state.code_labels = CodeLabels()
    app.state.webhook_secrets = SecretBox(settings.webhook_secret_keys.get_secret_value())
    app.state.balancer = Balancer(settings.upstream_cooldown_seconds)
    app.state.signing_keys = keys
    app.state.token_verifier = verifier
    app.state.client_addresses = client_addresses
    app.state.rate_limiter = limiter
    app.state.hasher = SecretHasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    # Outermost: CORS answers preflights before anything else runs.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Accept-Language",
            "If-Match",
            "Idempotency-Key",
            "X-Request-ID",
        ],
        expose_headers=["ETag", "X-Request-ID", "RateLimit", "RateLimit-Policy", "Retry-After", "Location"],
        max_age=600,
    )
    merger = MergedOpenAPI(app.state.upstreams, settings.openapi_cache_seconds)

    async def merged_openapi(request: Request) -> JSONResponse:
        doc: dict[str, Any] = await merger.document(request.app.state.http, app.openapi())
        return JSONResponse(doc)

    async def openapi_part(request: Request) -> JSONResponse:
        doc: dict[str, Any] = await merger.document(request.app.state.http, app.openapi())
        return JSONResponse(document_part(doc, request.path_params["part"], list(app.state.upstreams)))

    app.add_route("/openapi.json", merged_openapi, include_in_schema=False)
    app.add_route("/openapi/{part}.json", openapi_part, include_in_schema=False)
    # Swagger UI 5 (the merged document service by service) and Redoc (the whole), from the suite's own
    # files (no CDN: intranets).
    parts = {name: f"/openapi/{name}.json" for name in ("gateway", *settings.upstreams())}
    install_api_docs(app, title="shegong 社工 API", parts=parts)
    # The web console for county and township staff at / and /console/ (its pages call the services with
    # the signed-in user's token: the services decide what each user sees).
    install_console(app)
    app.router.routes.append(proxy_route)  # last: the gateway's own /api/v1/… routes come first
    return app
