"""Gateway API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.codes import PhoneNumber
from shared.regions import RegionCode


class ServiceHealth(BaseModel):
    status: Literal["ready", "unavailable"] = Field(description="就绪状态 readiness of the service")
    migration: str | None = Field(None, description="数据库迁移版本 Alembic revision, when ready")
    detail: str | None = Field(None, description="why not ready")
    latency_ms: float = Field(description="检查耗时 time the check took")


class SuiteHealth(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="ok when every service is ready")
    services: dict[str, ServiceHealth] = Field(description="各服务状态 gateway, roster, compensation, evaluation")


RIGHT_DESCRIPTION = (
    "权限 a role (province_admin, city_admin, county_admin, township_officer, community_secretary, worker, "
    "auditor, service) or personal_data (查看未脱敏个人信息 see unmasked personal data)"
)
REGION_DESCRIPTION = "区划代码 region code: 6 digits down to county (GB/T 2260), 12 below"


class TokenResponse(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1)."""

    access_token: str = Field(description="访问令牌 EdDSA-signed JWT")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="有效秒数 seconds until the access token expires")
    refresh_token: str | None = Field(None, description="刷新令牌 for the password and refresh_token grants only")


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    right: str = Field(description=RIGHT_DESCRIPTION, examples=["county_admin"])
    region: RegionCode = Field(description=REGION_DESCRIPTION, examples=["330302"])


class GrantOut(BaseModel):
    id: uuid.UUID
    right: str = Field(description=RIGHT_DESCRIPTION)
    region: str = Field(description=REGION_DESCRIPTION)
    granted_by: str | None = Field(description="授予人 who granted it")
    granted_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$", description="登录名 sign-in name, lower case")
    name: str = Field(min_length=1, max_length=100, description="姓名 name")
    phone: PhoneNumber | None = Field(None, description="手机号 mobile number (11 digits)")
    password: str = Field(min_length=12, max_length=200, description="密码 at least 12 characters")
    worker_id: uuid.UUID | None = Field(
        None,
        description="对应社工编号 the roster worker this person is: one of the caller's region, inside the account's "
        "grants (AC1, checked with the roster)",
    )
    grants: list[GrantIn] = Field(min_length=1, description="角色授权 at least one grant")


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100, description="姓名 name")
    phone: PhoneNumber | None = Field(None, description="手机号 mobile number")
    password: str | None = Field(None, min_length=12, max_length=200, description="新密码 new password")
    active: bool | None = Field(None, description="是否启用 deactivating also ends every session")
    worker_id: uuid.UUID | None = Field(
        None,
        description="对应社工编号 bind the account to a roster worker of the caller's region inside its grants (AC1); "
        "null unbinds; a change ends every session",
    )


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    name: str
    phone: str | None = Field(description="手机号 masked (138****5678) unless the caller holds personal_data")
    active: bool
    worker_id: str | None
    grants: list[GrantOut]
    created_at: datetime
    version: int = Field(description="版本 also in the ETag; send it back in If-Match to update")


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$", description="客户端编号 client id")
    name: str = Field(min_length=1, max_length=100, description="名称 name of the system")
    department: str = Field(min_length=1, max_length=100, description="所属部门 owning department")
    grants: list[GrantIn] = Field(min_length=1, description="角色授权 at least one grant")


class ClientOut(BaseModel):
    id: uuid.UUID
    client_id: str
    name: str
    department: str
    active: bool
    grants: list[GrantOut]
    created_at: datetime


class ClientSecret(BaseModel):
    client_id: str
    client_secret: str = Field(description="客户端密钥 shown once; only its hash is kept")


class SessionOut(BaseModel):
    id: uuid.UUID = Field(description="会话编号 the refresh-token family")
    user_id: uuid.UUID
    started_at: datetime
    last_refreshed_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None


class PrincipalOut(BaseModel):
    subject: str = Field(description="主体 user:<id> or client:<client id>")
    name: str
    grants: list[GrantIn]
    personal_data_regions: list[str] = Field(
        description="可查看未脱敏个人信息的区划 regions with the personal-data right"
    )
    worker_id: str | None


class AuditEventOut(BaseModel):
    id: int
    occurred_at: datetime
    action: str = Field(description="动作 sign_in, sign_in_failed, role_granted, role_revoked, personal_data_read …")
    actor: str | None = Field(description="操作人 who did it")
    subject: str | None = Field(description="对象 whom or what it concerned")
    region: str | None
    ip: str | None
    request_id: str | None
    details: dict[str, Any]
