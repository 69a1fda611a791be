"""Gateway API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

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


class AccountRef(BaseModel):
    """An account behind a ``user:<uuid>``."""

    username: str = Field(description="用户名 sign-in name")
    name: str = Field(description="姓名 the person's name")


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
    actor_account: AccountRef | None = Field(None, description="操作人账号 the account when the actor is a user")
    subject_account: AccountRef | None = Field(None, description="对象账号 the account when the subject is a user")


# Webhooks (docs/webhooks.md)
EVENT_TYPE_PATTERN = r"^(\*|[a-z][a-z_]*(\.[a-z_]+)+)$"
EventType = Annotated[str, Field(pattern=EVENT_TYPE_PATTERN, max_length=100)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="接收地址 the receiver: http(s); loopback only where allowed (WH2)")
    event_types: list[EventType] = Field(
        min_length=1, max_length=100, description="事件类型 e.g. worker.hired, quota.set; * for every type"
    )
    region_code: RegionCode = Field(description="区划 only events inside this region are sent (WH1); in your scope")


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, max_length=2000, description="接收地址 the receiver (WH2)")
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=100, description="事件类型")
    region_code: RegionCode | None = Field(None, description="区划 (WH1), in your scope")
    active: bool | None = Field(None, description="启用 false pauses deliveries; they wait, none is lost")


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str = Field(description="接收地址")
    event_types: list[str] = Field(description="事件类型")
    region_code: str = Field(description="区划")
    active: bool = Field(description="启用")
    previous_secret_until: datetime | None = Field(
        None, description="旧密钥有效期 until then deliveries carry a signature with the previous secret too (WH3)"
    )
    created_at: datetime
    updated_at: datetime = Field(description="修改时间 last change")


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="签名密钥 whsec_<base64>: shown once, on creation and rotation (WH3)")


DeliveryStatus = Literal["pending", "delivered", "parked"]


class DeliveryOut(BaseModel):
    id: int
    subscription_id: uuid.UUID = Field(description="订阅编号 subscription id")
    webhook_id: str = Field(description="投递标识 webhook-id, the same on every try: receivers dedupe by it")
    source: str = Field(description="来源服务 the service whose feed carried the event")
    event_id: int = Field(description="事件编号 in that service's feed")
    event_type: str = Field(description="事件类型")
    status: DeliveryStatus = Field(description="状态 pending, delivered, or parked after the last try (WH4)")
    parked: bool = Field(description="已搁置 no more tries unless redelivered")
    attempts: int = Field(description="尝试次数 tries since it was recorded or redelivered")
    status_codes: list[int] = Field(description="响应码 the receiver's answer to each try; 0 when none came")
    last_error: str | None = Field(None, description="最近错误")
    next_attempt_at: datetime | None = Field(None, description="下次尝试 null once delivered or parked")
    created_at: datetime
    delivered_at: datetime | None = Field(None, description="送达时间 when the receiver answered 2xx")
