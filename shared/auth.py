"""Who is calling, verified at every service (ARCHITECTURE rule 7), and what their roles admit.

The gateway issues short-lived EdDSA-signed JWT access tokens and serves its public keys at
``/.well-known/jwks.json``. Every service verifies every token itself with those keys (cached, and
fetched again when a token names a key it does not know: key rotation), so the gateway's check is never
the only one. A token carries the caller's role grants, each scoped to a region code, and the regions
where the caller may see unmasked personal data (a separate grant).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuth2 as OAuth2Model
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security.base import SecurityBase

from shared.i18n import Message
from shared.problems import Forbidden, Unauthorized
from shared.regions import contains

ISSUER = "shegong-gateway"
AUDIENCE = "shegong"
ALGORITHM = "EdDSA"
TOKEN_URL = "/api/v1/auth/token"


class Role(StrEnum):
    """角色 role, always granted for a region (``Grant``)."""

    province_admin = "province_admin"  # 省级管理员
    city_admin = "city_admin"  # 市级管理员
    county_admin = "county_admin"  # 县级组织/民政部门
    township_officer = "township_officer"  # 乡镇（街道）干部
    community_secretary = "community_secretary"  # 社区书记
    worker = "worker"  # 社区工作者本人
    auditor = "auditor"  # 审计（只读）
    service = "service"  # 本系统内部服务（服务间调用）


ROLE_LABELS: dict[str, str] = {
    Role.province_admin: "省级管理员",
    Role.city_admin: "市级管理员",
    Role.county_admin: "县级管理员（组织部、民政局）",
    Role.township_officer: "乡镇（街道）干部",
    Role.community_secretary: "社区书记",
    Role.worker: "社区工作者",
    Role.auditor: "审计员（只读）",
    Role.service: "内部服务",
}
ADMIN_ROLES = frozenset({Role.province_admin, Role.city_admin, Role.county_admin})
# Roles that read and manage the records of a region (an auditor reads only; a worker sees only themselves).
REGION_ROLES = frozenset({*ADMIN_ROLES, Role.township_officer, Role.community_secretary})


@dataclass(frozen=True)
class Grant:
    role: Role
    region: str


@dataclass(frozen=True)
class Principal:
    """The verified caller of one request."""

    subject: str  # "user:<uuid>" or "client:<client id>"
    name: str
    grants: tuple[Grant, ...]
    personal_data_regions: tuple[str, ...] = ()
    worker_id: str | None = None
    token_id: str = ""
    expires_at: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_client(self) -> bool:
        return self.subject.startswith("client:")

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)

    def has_any(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)

    def regions(self, roles: Iterable[Role] | None = None) -> list[str]:
        """Regions of the caller's grants (of ``roles``, when given)."""
        wanted = set(roles) if roles is not None else None
        return sorted({g.region for g in self.grants if wanted is None or g.role in wanted})

    def sees(self, region: str, roles: Iterable[Role] | None = None) -> bool:
        """Some grant (of ``roles``, when given) covers ``region``."""
        return any(contains(scope, region) for scope in self.regions(roles))

    def may_unmask(self, region: str) -> bool:
        """The separate personal-data grant covers ``region``."""
        return any(contains(scope, region) for scope in self.personal_data_regions)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            subject=str(claims["sub"]),
            name=str(claims.get("name", "")),
            grants=tuple(Grant(Role(g["role"]), str(g["region"])) for g in claims.get("roles", [])),
            personal_data_regions=tuple(str(r) for r in claims.get("pd", [])),
            worker_id=claims.get("wid"),
            token_id=str(claims.get("jti", "")),
            expires_at=int(claims.get("exp", 0)),
        )


def principal_claims(principal: Principal) -> dict[str, Any]:
    """The claims describing ``principal`` (the gateway adds iss, aud, iat, exp, jti)."""
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "name": principal.name,
        "roles": [{"role": g.role.value, "region": g.region} for g in principal.grants],
        "pd": list(principal.personal_data_regions),
    }
    if principal.worker_id:
        claims["wid"] = principal.worker_id
    return claims


_INVALID = Message("访问令牌无效或已过期", "The access token is invalid or has expired")
_MISSING = Message("需要访问令牌（Authorization: Bearer …）", "An access token is required (Authorization: Bearer …)")


def unauthorized(detail: Message = _INVALID, error: str = "invalid_token") -> Unauthorized:
    problem = Unauthorized(detail)
    problem.headers = {"WWW-Authenticate": f'Bearer error="{error}"'}
    return problem


JwksSource = Callable[[], Awaitable[dict[str, Any]]]


def http_jwks_source(client: httpx.AsyncClient, url: str) -> JwksSource:
    async def fetch() -> dict[str, Any]:
        response = await client.get(url)
        response.raise_for_status()
        jwks: dict[str, Any] = response.json()
        return jwks

    return fetch


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    kid: str
    key: jwt.PyJWK  # the key that verified it: a token whose key has left the JWKS is verified again (and refused)


@dataclass(eq=False)
class TokenVerifier:
    """Verifies access tokens against a JWKS, cached for ``refresh_seconds``.

    A token whose key id is unknown triggers one fetch (at most every ``min_refetch_seconds``): that is
    how a rotated-in key is picked up without a restart.

    ``cache_size`` > 0 (the gateway, which checks every request's token): a token verified once is not
    verified again while it has not expired and the key that verified it is still the JWKS's (the same
    bytes verify the same way; the signature check was most of the cost of a cached token version).
    """

    source: JwksSource
    _: KW_ONLY
    issuer: str = ISSUER
    audience: str = AUDIENCE
    leeway_seconds: float = 30
    refresh_seconds: float = 300
    min_refetch_seconds: float = 10
    cache_size: int = 0

    def __post_init__(self) -> None:
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self._verified: dict[str, _Verified] = {}

    async def _refresh(self, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if (force and age < self.min_refetch_seconds) or (not force and age < self.refresh_seconds):
                return
            jwks = await self.source()
            keys = {}
            for entry in jwks.get("keys", []):
                try:
                    keys[entry["kid"]] = jwt.PyJWK(entry)
                except (jwt.PyJWKError, KeyError):
                    continue  # a key we cannot use is skipped, not fatal
            self._keys = keys
            self._fetched_at = time.monotonic()

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        try:
            await self._refresh(force=False)
            if kid not in self._keys:
                await self._refresh(force=True)
        except (httpx.HTTPError, ValueError) as exc:
            if not self._keys:
                raise unauthorized(
                    Message("暂时无法验证令牌（密钥不可得）", "Tokens cannot be verified now (keys unavailable)")
                ) from exc
        return self._keys.get(kid)

    def _still_verified(self, token: str) -> Principal | None:
        """The principal of a token verified before, if it has not expired and its key is still current."""
        known = self._verified.get(token)
        if known is None:
            return None
        if time.time() - self.leeway_seconds >= known.principal.expires_at or (
            self._keys.get(known.kid) is not known.key
        ):
            del self._verified[token]
            return None
        return known.principal

    def _remember(self, token: str, principal: Principal, kid: str, key: jwt.PyJWK) -> None:
        if len(self._verified) >= self.cache_size:
            cutoff = time.time() - self.leeway_seconds
            self._verified = {t: v for t, v in self._verified.items() if v.principal.expires_at > cutoff}
            if len(self._verified) >= self.cache_size:
                self._verified.clear()
        self._verified[token] = _Verified(principal, kid, key)

    async def verify(self, token: str) -> Principal:
        if self.cache_size:
            if time.monotonic() - self._fetched_at >= self.refresh_seconds:
                with contextlib.suppress(httpx.HTTPError, ValueError):  # verified below as without the cache
                    await self._refresh(force=False)
            known = self._still_verified(token)
            if known is not None:
                return known
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise unauthorized() from exc
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") != ALGORITHM:
            raise unauthorized()
        key = await self.key_for(kid)
        if key is None:
            raise unauthorized()
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
            )
            if claims.get("typ") != "access":
                raise unauthorized()
            principal = Principal.from_claims(claims)
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise unauthorized() from exc
        if self.cache_size:
            self._remember(token, principal, kid, key)
        return principal


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class BearerAuth(SecurityBase):
    """Dependency: the verified principal of the request (401 problem otherwise).

    A ``SecurityBase`` so that FastAPI marks every operation using it with the OAuth2 scheme.
    """

    def __init__(self) -> None:
        self.model = OAuth2Model(
            flows=OAuthFlows(
                password=OAuthFlowPassword(tokenUrl=TOKEN_URL),
                clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL),
            ),
            description="网关签发的访问令牌 access token from the gateway (EdDSA JWT; keys at /.well-known/jwks.json)",
        )
        self.scheme_name = "oauth2"

    async def __call__(self, request: Request) -> Principal:
        cached = getattr(request.state, "principal", None)
        if isinstance(cached, Principal):
            return cached
        token = bearer_token(request)
        if token is None:
            raise unauthorized(_MISSING, "invalid_request")
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = await verifier.verify(token)
        request.state.principal = principal
        return principal


authenticated = BearerAuth()


class RoleRequirement:
    """Dependency: the principal, if it holds one of ``roles`` (403 problem otherwise).

    Which records of a region the principal then sees is the endpoint's query (404 outside).
    """

    def __init__(self, *roles: Role, admit: Iterable[Role] | None = None) -> None:
        self.roles = tuple(roles)  # what the operation is for (documented in OpenAPI as x-roles)
        self.admit = tuple(admit) if admit is not None else self.roles  # who passes this gate

    async def __call__(self, principal: Annotated[Principal, Security(authenticated)]) -> Principal:
        if not principal.has_any(self.admit):
            raise Forbidden(
                Message("需要以下角色之一：{roles}", "One of these roles is required: {roles}"),
                roles=", ".join(self.roles),
            )
        return principal


def require(*roles: Role) -> Any:
    """``principal: Annotated[Principal, require(Role.county_admin, …)]``."""
    return Depends(RoleRequirement(*roles))


def require_for_record(*roles: Role, readers: Iterable[Role]) -> Any:
    """A write that only ``roles`` may make, gated so that ``readers`` pass to the record check.

    The endpoint then answers 404 for a record outside the caller's region (it does not exist for
    them) and 403 for one inside that the caller may only read: a role refusal at the gate would
    otherwise tell a community secretary that a record of another community exists.
    """
    return Depends(RoleRequirement(*roles, admit=(*roles, *readers)))


CurrentPrincipal = Annotated[Principal, Security(authenticated)]


def roles_of_route(dependant: Any) -> list[str]:
    """Roles admitted by the ``RoleRequirement``s in a route's dependency tree (for OpenAPI)."""
    found: list[str] = []
    stack = [dependant]
    while stack:
        node = stack.pop()
        if isinstance(node.call, RoleRequirement):
            found.extend(role.value for role in node.call.roles)
        stack.extend(node.dependencies)
    return sorted(set(found))
