"""RFC 9457 problem details (``application/problem+json``) for every error a client can see.

One exception base, :class:`Problem`, carries its status, a stable type slug, a title in zh-CN and en,
the policy rule it enforces (``rule``, e.g. ``"S5"``) and per-field errors with JSON pointers.
:func:`install_problem_handlers` makes validation errors (FastAPI's default 422 body is replaced),
HTTP errors and unexpected exceptions answer in the same shape: no stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as Message_

from shared.i18n import Language, Message, negotiate
from shared.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://shegong.example.org/problems/"
_log = logging.getLogger("shegong.errors")


class FieldError(BaseModel):
    """One bad input field."""

    pointer: str = Field(description="JSON pointer to the field, e.g. /body/households (RFC 6901)")
    field: str = Field(description="字段名 the field's name")
    detail: str = Field(description="what is wrong, in the negotiated language")
    type: str = Field(description="machine-readable error code, e.g. missing, int_parsing")
    rule: str | None = Field(None, description="政策规则 the POLICY.md rule id, where one applies")


class LocalizedFieldError:
    """A bad input field whose ``detail`` is rendered in the negotiated language (zh-CN or en)."""

    __slots__ = ("detail", "field", "pointer", "rule", "type")

    def __init__(
        self, pointer: str, field: str, detail: Message, *, type: str = "rule", rule: str | None = None
    ) -> None:
        self.pointer, self.field, self.detail, self.type, self.rule = pointer, field, detail, type, rule

    def render(self, language: Language) -> FieldError:
        return FieldError(
            pointer=self.pointer, field=self.field, detail=self.detail.render(language), type=self.type, rule=self.rule
        )


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, with shegong's extension members."""

    model_config = ConfigDict(json_schema_extra={"description": "RFC 9457 problem details 错误详情"})

    type: str = Field(description="URI naming the kind of problem")
    title: str = Field(description="short summary of the kind, in the negotiated language")
    status: int = Field(description="HTTP status code")
    detail: str | None = Field(None, description="this occurrence, in the negotiated language")
    instance: str | None = Field(None, description="the request path")
    request_id: str | None = Field(None, description="请求编号 the X-Request-ID of the request")
    rule: str | None = Field(None, description="政策规则 the POLICY.md rule id, where one applies")
    errors: list[FieldError] = Field(default_factory=list, description="one entry per bad field")


class Problem(Exception):
    """Base of every error meant for a client. Subclasses fix ``status``, ``slug`` and ``title``."""

    status: int = 500
    slug: str = "internal-error"
    title = Message("服务器内部错误", "Internal server error")

    def __init__(
        self,
        detail: Message | None = None,
        *,
        rule: str | None = None,
        errors: Sequence[FieldError | LocalizedFieldError] | None = None,
        headers: dict[str, str] | None = None,
        **params: object,
    ) -> None:
        super().__init__(detail.en.format(**params) if detail else self.title.en)
        self.detail = detail
        self.params = params
        self.rule = rule
        self.errors: list[FieldError | LocalizedFieldError] = list(errors or [])
        self.headers = headers or {}
        # Extension members beyond shegong's own (e.g. OAuth2's ``error`` code on the token endpoint).
        self.extra: dict[str, object] = {}

    def to_body(self, language: Language, instance: str | None) -> ProblemDetails:
        return ProblemDetails(
            type=TYPE_BASE + self.slug,
            title=self.title.render(language),
            status=self.status,
            detail=self.detail.render(language, **self.params) if self.detail else None,
            instance=instance,
            request_id=current_request_id(),
            rule=self.rule,
            errors=[e.render(language) if isinstance(e, LocalizedFieldError) else e for e in self.errors],
        )


class BadRequest(Problem):
    status = 400
    slug = "bad-request"
    title = Message("请求有误", "Bad request")


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = Message("未认证", "Unauthorized")


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = Message("无权操作", "Forbidden")


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = Message("资源不存在", "Not found")


class MethodNotAllowed(Problem):
    status = 405
    slug = "method-not-allowed"
    title = Message("不支持该方法", "Method not allowed")


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = Message("与现有数据冲突", "Conflict")


class PreconditionFailed(Problem):
    status = 412
    slug = "precondition-failed"
    title = Message("资源已被修改", "Precondition failed")


class UnsupportedMediaType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = Message("不支持的请求体格式", "Unsupported media type")


class UnprocessableContent(Problem):
    """Well-formed input that breaks a rule (validation or policy)."""

    status = 422
    slug = "validation-error"
    title = Message("输入校验未通过", "Validation failed")


class PreconditionRequired(Problem):
    status = 428
    slug = "precondition-required"
    title = Message("缺少 If-Match 请求头", "Precondition required")


class TooManyRequests(Problem):
    status = 429
    slug = "too-many-requests"
    title = Message("请求过于频繁", "Too many requests")


class BadGateway(Problem):
    status = 502
    slug = "bad-gateway"
    title = Message("上游服务应答有误", "Bad gateway")


class ServiceUnavailable(Problem):
    status = 503
    slug = "service-unavailable"
    title = Message("服务暂不可用", "Service unavailable")


class GatewayTimeout(Problem):
    status = 504
    slug = "gateway-timeout"
    title = Message("上游服务超时", "Gateway timeout")


_STATUS_CLASSES: dict[int, type[Problem]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        UnsupportedMediaType,
        UnprocessableContent,
        PreconditionRequired,
        TooManyRequests,
        BadGateway,
        ServiceUnavailable,
        GatewayTimeout,
    )
}

# zh-CN texts for pydantic's error types; English uses pydantic's own message.
_VALIDATION_ZH: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为十进制数",
    "decimal_max_places": "小数位数过多",
    "bool_parsing": "应为布尔值",
    "string_type": "应为字符串",
    "string_too_short": "字符串过短",
    "string_too_long": "字符串过长",
    "string_pattern_mismatch": "格式不正确",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "date_parsing": "应为 ISO 8601 日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为 ISO 8601 日期（YYYY-MM-DD）",
    "datetime_parsing": "应为 ISO 8601 时间",
    "datetime_from_date_parsing": "应为 ISO 8601 时间",
    "enum": "取值不在允许的代码中",
    "literal_error": "取值不在允许的代码中",
    "json_invalid": "请求体不是合法的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "too_short": "元素过少",
    "too_long": "元素过多",
    "uuid_parsing": "应为 UUID",
    "value_error": "取值不正确",
}


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


def field_errors_from_validation(exc: RequestValidationError, language: Language) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        named = [str(p) for p in loc if not isinstance(p, int)]
        field = named[-1] if len(named) > 1 else (named[0] if named else "")
        etype = str(err.get("type", "value_error"))
        ctx = err.get("ctx") or {}
        rule = ctx.get("rule") if isinstance(ctx, dict) else None
        if language == "zh-CN":
            detail = _VALIDATION_ZH.get(etype, err.get("msg", "取值不正确"))
            if etype == "value_error" and err.get("msg"):
                detail = f"{detail}：{err['msg'].removeprefix('Value error, ')}"
        else:
            detail = str(err.get("msg", "Invalid value"))
        errors.append(FieldError(pointer=_pointer(loc), field=field, detail=detail, type=etype, rule=rule))
    return errors


def public_path(request: Request) -> str:
    """The path as the client sent it: behind the gateway, ``/v1/x`` of roster is ``/api/v1/roster/x``."""
    path = request.url.path
    prefix = request.headers.get("x-forwarded-prefix")
    if prefix and prefix.startswith("/api/v1/") and path.startswith("/v1/"):
        return prefix.rstrip("/") + path[len("/v1") :]
    return path


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    language = negotiate(request.headers.get("accept-language"))
    body = problem.to_body(language, public_path(request))
    headers = {"Content-Language": language, **problem.headers}
    return JSONResponse(
        body.model_dump(mode="json") | problem.extra,
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def problem_for_status(status: int, detail: Message | None = None) -> Problem:
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        problem = Problem(detail)
        problem.status = status
        problem.slug = "http-error" if status < 500 else "internal-error"
        return problem
    return cls(detail)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc, request)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    language = negotiate(request.headers.get("accept-language"))
    errors = field_errors_from_validation(exc, language)
    names = ", ".join(dict.fromkeys(e.field for e in errors if e.field))
    problem = UnprocessableContent(
        Message("以下字段不正确：{fields}", "Invalid fields: {fields}"), errors=errors, fields=names or "-"
    )
    rules = {e.rule for e in errors if e.rule}
    if len(rules) == 1:
        problem.rule = rules.pop()
    return problem_response(problem, request)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    problem = problem_for_status(exc.status_code)
    if exc.status_code == 404:
        problem.detail = Message("没有这个地址：{path}", "No such path: {path}")
        problem.params = {"path": public_path(request)}
    problem.headers = dict(exc.headers or {})
    return problem_response(problem, request)


class UnexpectedErrorMiddleware:
    """Turns an unexpected exception into a 500 problem; the trace goes to the log, never to the client.

    A middleware rather than an ``Exception`` handler: Starlette runs such a handler outside every
    user middleware, where the request id is already gone. Installed inside ``RequestIdMiddleware``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message_) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            _log.exception("unhandled error", extra={"path": scope.get("path")})
            if started:
                raise  # the response is already on its way: nothing sane can be sent any more
            problem = Problem(
                Message(
                    "请求处理失败，请凭请求编号联系管理员", "The request failed; quote the request id to the operators"
                )
            )
            await problem_response(problem, Request(scope))(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json response (add ``RequestIdMiddleware`` after this)."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_middleware(UnexpectedErrorMiddleware)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json bodies for the given statuses."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        cls = _STATUS_CLASSES.get(status, Problem)
        out[status] = {
            "description": f"{cls.title.zh} {cls.title.en}",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
    return out


STANDARD_PROBLEMS = problem_responses(422, 500)
