"""shegong's own library, used by every service.

Modules, each named for what it holds:

- :mod:`shared.settings` — pydantic-settings base class (one subclass per service, own env prefix)
- :mod:`shared.db` — async engine, request-scoped session, metadata with the naming convention
- :mod:`shared.problems` — RFC 9457 problem+json errors and their exception handlers
- :mod:`shared.i18n` — zh-CN / en negotiation by ``Accept-Language``
- :mod:`shared.codes` — ID numbers and codes typed in any Unicode digits, normalised to ASCII
- :mod:`shared.regions` — region codes (GB/T 2260), their levels, scope and API types
- :mod:`shared.request_context` — ``X-Request-ID`` middleware and the request-id context variable
- :mod:`shared.logs` — JSON structured logging
- :mod:`shared.health` — ``/healthz`` and ``/readyz``
- :mod:`shared.http_client` — the one pooled ``httpx.AsyncClient`` per process
- :mod:`shared.events` — transactional outbox and the never-skipping change feed
- :mod:`shared.migrations` — each service's Alembic environment, shared
- :mod:`shared.service_app` — the app factory every service builds on
"""
