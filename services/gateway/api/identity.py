"""Administration of accounts: users, API clients, their grants, their sessions (use cases in
``services.gateway.accounts``; who may see and change what in ``services.gateway.admin_scope``, AC1–AC4)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from services.gateway import accounts
from services.gateway.schemas import (
    ClientCreate,
    ClientOut,
    ClientSecret,
    GrantIn,
    GrantOut,
    SessionOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from services.gateway.state import gateway_state
from services.gateway.worker_lookup import worker_community
from shared.auth import ADMIN_ROLES, Principal, require
from shared.concurrency import check_if_match, etag
from shared.db import SessionDep
from shared.list_answers import list_route, paged_route
from shared.pagination import Page, PageAt
from shared.problems import problem_responses
from shared.regions import RegionCode

router = APIRouter(prefix="/api/v1/identity", tags=["identity"])
Admin = Annotated[Principal, require(*ADMIN_ROLES)]


def _listing(
    path: str, model: type[BaseModel], name: str, summary: str
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A whole list of what an administrator manages, as JSON or the file asked for: their scope bounds it (no 404)."""
    return list_route(router, path, model, name, summary=summary, problems=(401, 403))


def _ending(path: str, summary: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``@router.delete`` of what an administrator ends (a grant, a session): 204, or 404 outside its scope."""
    return router.delete(path, summary=summary, status_code=204, responses=problem_responses(401, 403, 404))


def _community_of(request: Request) -> accounts.CommunityOf:
    async def community_of(worker_id: uuid.UUID) -> str | None:
        return await worker_community(request, worker_id)

    return community_of


@router.post(
    "/users",
    summary="创建用户 create a user with its grants",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_user(
    body: UserCreate, admin: Admin, session: SessionDep, request: Request, response: Response
) -> UserOut:
    user, shown = await accounts.create_user(
        session, admin, body, gateway_state(request).hasher, _community_of(request)
    )
    response.headers["ETag"] = etag(user.id, user.version)
    response.headers["Location"] = f"/api/v1/identity/users/{user.id}"
    return shown


@paged_route(router, "/users", UserOut, "users", summary="用户列表 users the caller may see (phones masked)")
async def list_users(
    at: PageAt,
    admin: Admin,
    region: Annotated[RegionCode | None, Query(description="只看该区划内 within this region")] = None,
    right: Annotated[str | None, Query(description="持有该权限 holding this right")] = None,
    active: Annotated[bool | None, Query(description="是否启用")] = None,
) -> Page[UserOut]:
    return await accounts.users_page(at, admin, region=region, right=right, active=active)


@router.get(
    "/users/{user_id}",
    summary="查看用户 one user; ?unmasked=true shows the phone to holders of personal_data (audited)",
    responses=problem_responses(401, 403, 404),
)
async def get_user(
    user_id: uuid.UUID,
    admin: Admin,
    session: SessionDep,
    response: Response,
    unmasked: Annotated[bool, Query(description="显示完整手机号（需 personal_data 授权，留审计）")] = False,
) -> UserOut:
    user, shown = await accounts.read_user(session, admin, user_id, unmasked)
    response.headers["ETag"] = etag(user.id, user.version)
    return shown


@router.patch(
    "/users/{user_id}",
    summary="修改用户 change name, phone, password, active or worker (If-Match required)",
    responses=problem_responses(401, 403, 404, 412, 422, 428, 503),
)
async def update_user(
    user_id: uuid.UUID, body: UserPatch, admin: Admin, session: SessionDep, request: Request, response: Response
) -> UserOut:
    if_match = partial(check_if_match, request)  # the stored version is read under the use case's lock
    user, shown = await accounts.update_user(
        session, admin, user_id, body, if_match, gateway_state(request).hasher, _community_of(request)
    )
    response.headers["ETag"] = etag(user.id, user.version)
    return shown


@router.post(
    "/users/{user_id}/grants",
    summary="授予角色 grant a role or the personal-data right",
    status_code=201,
    responses=problem_responses(401, 403, 404, 422),
)
async def grant_to_user(user_id: uuid.UUID, body: GrantIn, admin: Admin, session: SessionDep) -> GrantOut:
    return await accounts.grant_to_user(session, admin, user_id, body)


@_ending("/grants/{grant_id}", "撤销授权 revoke a grant (tokens already issued with it are refused within seconds)")
async def revoke_grant(grant_id: uuid.UUID, admin: Admin, session: SessionDep) -> None:
    await accounts.revoke_grant(session, admin, grant_id)


@router.post(
    "/clients",
    summary="创建接入客户端 create an API client (its secret is shown once)",
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_client(body: ClientCreate, admin: Admin, session: SessionDep, request: Request) -> ClientSecret:
    return await accounts.create_client(session, admin, body, gateway_state(request).hasher)


@_listing("/clients", ClientOut, "clients", "接入客户端列表 API clients the caller may see")
async def list_clients(admin: Admin, session: SessionDep) -> list[ClientOut]:
    return await accounts.clients(session, admin)


@router.post(
    "/clients/{client_id}/secret",
    summary="更换客户端密钥 rotate an API client's secret (the old one works for the grace period)",
    responses=problem_responses(401, 403, 404),
)
async def rotate_client_secret(client_id: str, admin: Admin, session: SessionDep, request: Request) -> ClientSecret:
    return await accounts.rotate_client_secret(session, admin, client_id, gateway_state(request).hasher)


@_listing(
    "/sessions",
    SessionOut,
    "sessions",
    "会话列表 live sessions (refresh-token families) of the users the caller may see",
)
async def list_sessions(
    admin: Admin, session: SessionDep, user_id: Annotated[uuid.UUID | None, Query()] = None
) -> list[SessionOut]:
    return await accounts.live_sessions(session, admin, user_id)


@_ending("/sessions/{session_id}", "结束会话 revoke a session: its refresh token stops working at once")
async def end_session(session_id: uuid.UUID, admin: Admin, session: SessionDep) -> None:
    await accounts.end_session(session, admin, session_id)
