"""RFC 9457 problem details (``application/problem+json``) for every error a client can see.

One exception base, :class:`Problem`, carries its status, a stable type slug, a title in zh-CN and en,
the policy rule it enforces (``rule``, e.g. ``"S5"``) and per-field errors with JSON pointers.
:func:`install_problem_handlers` makes validation errors (FastAPI's default 422 body is replaced),
HTTP errors and unexpected exceptions answer in the same shape: no stack trace ever reaches a client.
"""

from __future__ import annotations

import abc
import logging
import re
from collections.abc import Sequence
from typing import Any, Self, cast, get_args

import asyncpg.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as Message_

from shared.i18n import Language, Message, negotiate
from shared.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://shegong.example.org/problems/"
_log = logging.getLogger("shegong.errors")
ERRORS_SHOWN = 50
"""How many items of a list a problem names field by field (its text gives the count of all)."""


class FieldError(BaseModel):
    """One bad input field, explained in both languages whatever the client negotiated.

    ``detail`` repeats the negotiated language's text (the shape clients read before ``detail_zh`` and
    ``detail_en`` existed); it is filled in when the problem is rendered, so constructors give both texts.
    """

    pointer: str = Field(description="JSON pointer to the field, e.g. /body/households (RFC 6901)")
    field: str = Field(description="字段名 the field's name")
    detail: str = Field("", description="what is wrong, in the negotiated language")
    detail_zh: str = Field(description="错误说明（中文） what is wrong, in Chinese")
    detail_en: str = Field(description="错误说明（英文） what is wrong, in English")
    type: str = Field(description="machine-readable error code, e.g. missing, int_parsing")
    rule: str | None = Field(None, description="政策规则 the POLICY.md rule id, where one applies")

    @classmethod
    def of(
        cls,
        field: str,
        message: Message,
        *,
        pointer: str | None = None,
        rule: str | None = None,
        type: str | None = None,
    ) -> FieldError:
        """A body field's error: ``pointer`` defaults to ``/body/<field>``, ``type`` to ``rule``/``value_error``."""
        return cls(
            pointer=pointer or f"/body/{field}",
            field=field,
            detail_zh=message.zh,
            detail_en=message.en,
            type=type or ("rule" if rule else "value_error"),
            rule=rule,
        )

    def rendered(self, language: Language) -> FieldError:
        return self.model_copy(update={"detail": self.detail_en if language == "en" else self.detail_zh})


class LocalizedFieldError:
    """A bad input field whose ``detail`` is rendered in the negotiated language (zh-CN or en)."""

    __slots__ = ("detail", "field", "pointer", "rule", "type")

    def __init__(
        self, pointer: str, field: str, detail: Message, *, type: str = "rule", rule: str | None = None
    ) -> None:
        self.pointer, self.field, self.detail, self.type, self.rule = pointer, field, detail, type, rule

    def render(self, language: Language) -> FieldError:
        return FieldError.of(self.field, self.detail, pointer=self.pointer, rule=self.rule, type=self.type).rendered(
            language
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

    @classmethod
    def out_of_scope(cls, detail: Message, field: str, item: Message, pointers: Sequence[str]) -> Self:
        """This problem for the items of a list the caller may not touch: ``detail`` (``{n}``, how many) and a
        ``scope`` error ``item`` on ``field`` for each of the first :data:`ERRORS_SHOWN` JSON ``pointers``."""
        errors = [FieldError.of(field, item, pointer=p, type="scope") for p in pointers[:ERRORS_SHOWN]]
        return cls(detail, errors=errors, n=len(pointers))

    def to_body(self, language: Language, instance: str | None) -> ProblemDetails:
        return ProblemDetails(
            type=TYPE_BASE + self.slug,
            title=self.title.render(language),
            status=self.status,
            detail=self.detail.render(language, **self.params) if self.detail else None,
            instance=instance,
            request_id=current_request_id(),
            rule=self.rule,
            errors=[
                (e.render(language) if isinstance(e, LocalizedFieldError) else e).rendered(language)
                for e in self.errors
            ],
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

# zh-CN texts for pydantic's error types (``{…}`` from the error's context); English is pydantic's own.
_VALIDATION_ZH: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为十进制数",
    "decimal_max_places": "小数位数不得超过 {decimal_places} 位",
    "bool_parsing": "应为布尔值",
    "string_type": "应为字符串",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确（应符合 {pattern}）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "date_parsing": "应为 ISO 8601 日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为 ISO 8601 日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期，不含时刻",
    "datetime_parsing": "应为 ISO 8601 时间",
    "datetime_from_date_parsing": "应为 ISO 8601 时间",
    "enum": "取值应为 {expected} 之一",
    "literal_error": "取值应为 {expected} 之一",
    "json_invalid": "请求体不是合法的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "too_short": "至少 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "uuid_parsing": "应为 UUID",
    "value_error": "取值不正确",
}
# A field whose OpenAPI description cites exactly one rule, e.g. "岗位等级 grade, 1–18 (C4)".
_RULE_IN_DESCRIPTION = re.compile(r"\(([SPHCEK][0-9]{1,2})\)")


def rule_violation(rule: str | None, zh: str, en: str) -> PydanticCustomError:
    """Raise from a pydantic validator: the 422 entry then carries both texts and the rule id."""
    return PydanticCustomError(
        "rule" if rule else "value_error", en.replace("{", "{{").replace("}", "}}"), {"rule": rule, "detail_zh": zh}
    )


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


def _zh_text(etype: str, ctx: dict[str, Any], en: str) -> str:
    if isinstance(ctx.get("detail_zh"), str):
        return str(ctx["detail_zh"])
    template = _VALIDATION_ZH.get(etype)
    if template is None:
        return f"取值不正确（{en}）"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``X | None``, ``list[X]`` or ``Annotated[X, …]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def _description(route: Any, loc: tuple[Any, ...]) -> str | None:
    """The OpenAPI description of the field at ``loc`` in ``route`` (a FastAPI ``APIRoute``), if found."""
    dependant = getattr(route, "dependant", None)
    if dependant is None or not loc:
        return None
    names = [p for p in loc[1:] if isinstance(p, str)]
    if loc[0] == "body":
        body = getattr(route, "body_field", None)
        model = _unwrap_model(body.field_info.annotation) if body is not None else None
        description = None
        for name in names:
            field = model.model_fields.get(name) if model is not None else None
            if field is None:
                return None
            description = field.description
            model = _unwrap_model(field.annotation)
        return description
    params = {"query": dependant.query_params, "path": dependant.path_params, "header": dependant.header_params}
    for param in params.get(str(loc[0]), []):
        if names and param.alias == names[0]:
            return cast("str | None", param.field_info.description)
    return None


def field_errors_from_validation(exc: RequestValidationError, route: Any = None) -> list[FieldError]:
    """One entry per pydantic error, in both languages; the rule from the validator or the field's description."""
    errors: list[FieldError] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        named = [str(p) for p in loc if not isinstance(p, int)]
        field = named[-1] if len(named) > 1 else (named[0] if named else "")
        etype = str(err.get("type", "value_error"))
        ctx = err.get("ctx") or {}
        ctx = ctx if isinstance(ctx, dict) else {}
        en = str(err.get("msg", "Invalid value")).removeprefix("Value error, ")
        rule = ctx.get("rule")
        if rule is None:
            found = _RULE_IN_DESCRIPTION.findall(_description(route, loc) or "")
            rule = found[0] if len(found) == 1 else None
        errors.append(
            FieldError(
                pointer=_pointer(loc),
                field=field,
                detail_zh=_zh_text(etype, ctx, en),
                detail_en=en,
                type=etype,
                rule=rule,
            )
        )
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
    errors = field_errors_from_validation(exc, request.scope.get("route"))
    names = ", ".join(dict.fromkeys(e.field for e in errors if e.field))
    problem = UnprocessableContent(
        Message("以下字段不正确：{fields}", "Invalid fields: {fields}"), errors=errors, fields=names or "-"
    )
    rules = {e.rule for e in errors if e.rule}
    if len(rules) == 1:
        problem.rule = rules.pop()
    return problem_response(problem, request)


_BODY_NOT_PARSED = "There was an error parsing the body"
_BODY_UNREADABLE = Message("请求体无法解析（应为 UTF-8 编码的 JSON 或表单）", "The request body could not be parsed")


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    problem = problem_for_status(exc.status_code)
    if exc.status_code == 400 and exc.detail == _BODY_NOT_PARSED:
        # FastAPI's answer to a body that is not UTF-8 or not a form: say so, and where.
        problem.detail = _BODY_UNREADABLE
        problem.errors = [FieldError.of("body", _BODY_UNREADABLE, pointer="/body", type="body_unreadable")]
    if exc.status_code == 404:
        problem.detail = Message("没有这个地址：{path}", "No such path: {path}")
        problem.params = {"path": public_path(request)}
    problem.headers = dict(exc.headers or {})
    return problem_response(problem, request)


def _is_data_error(exc: BaseException) -> bool:
    """Whether PostgreSQL (or asyncpg encoding a parameter) refused a value: out of range, NUL, bad date."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.exceptions.DataError):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return False


class ErrorToProblemMiddleware(abc.ABC):
    """Base of the middlewares that turn an exception into a problem response: ``problem_for`` decides
    (None: not mine, let it rise). Once the response has started nothing sane can be sent: it rises."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @abc.abstractmethod
    def problem_for(self, exc: Exception, scope: Scope) -> Problem | None:
        """The problem to answer ``exc`` with, or None to let it rise."""

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
        except Exception as exc:
            problem = None if started else self.problem_for(exc, scope)
            if problem is None:
                if started:
                    _log.exception("error after the response started", extra={"path": scope.get("path")})
                raise
            await problem_response(problem, Request(scope))(scope, receive, send)


class UnexpectedErrorMiddleware(ErrorToProblemMiddleware):
    """Turns an unexpected exception into a 500 problem; the trace goes to the log, never to the client.

    A middleware rather than an ``Exception`` handler: Starlette runs such a handler outside every
    user middleware, where the request id is already gone. Installed inside ``RequestIdMiddleware``.
    """

    def problem_for(self, exc: Exception, scope: Scope) -> Problem | None:
        if _is_data_error(exc):
            # A safety net, not the fix: the input type should have refused the value (shared.inputs).
            _log.warning("database refused a value", exc_info=True, extra={"path": scope.get("path")})
            return UnprocessableContent(Message("有取值超出了可保存的范围", "A value is outside what can be stored"))
        _log.exception("unhandled error", extra={"path": scope.get("path")})
        return Problem(
            Message("请求处理失败，请凭请求编号联系管理员", "The request failed; quote the request id to the operators")
        )


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
