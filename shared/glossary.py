"""The Chinese names of the API's common fields (CONVENTIONS: every field's description carries its
Chinese name, and the rule id where one applies).

A field whose own description already has its Chinese name keeps it; any other field named here gets
this text in the OpenAPI document (``shared.service_app`` applies it), so the names stay the same
across services. A contract test fails when a field has neither.
"""

from __future__ import annotations

from typing import Any

GLOSSARY: dict[str, str] = {
    # identity of records
    "id": "编号 id",
    "version": "版本 version (also in the ETag; send it back in If-Match)",
    "worker_id": "社工编号 worker id",
    "user_id": "用户编号 user id",
    "round_id": "招聘批次编号 recruitment round id",
    "renewal_of": "续签自 the contract this one renews (H3)",
    "request_id": "请求编号 X-Request-ID",
    # people
    "name": "名称/姓名 name",
    "username": "登录名 sign-in name",
    "status": "状态 status",
    "active": "是否启用 active",
    "education": "学历 education (C4 starting grade)",
    "political_status": "政治面貌 political status",
    "lives_in_community": "是否居住在本社区 lives in the community (S6)",
    "generalist": "全科社工 generalist (S7)",
    "grid_duties": "兼任网格员 holds grid-worker duties (S8)",
    "certificate_level": "社工职业资格 social-work certificate (C8, H7)",
    "certificate_date": "取证日期 certificate date (H7)",
    "hire_date": "入职日期 hire date (H4)",
    "left_date": "离职日期 leaving date (C6)",
    "start_date": "开始日期 start date",
    "effective_date": "生效日期 effective date",
    "occurred_at": "发生时间 when it happened (UTC)",
    "created_at": "创建时间 created (UTC)",
    "granted_at": "授予时间 granted (UTC)",
    "started_at": "开始时间 started (UTC)",
    "last_refreshed_at": "最近刷新 last refreshed (UTC)",
    "expires_at": "到期时间 expires (UTC)",
    "date": "日期 date",
    "year": "年度 year",
    # regions
    "code": "区划代码 region code",
    "region": "区划代码 region code",
    "parent_code": "上级区划代码 parent region code",
    "community_code": "社区代码 community code",
    "county_code": "县级区划代码 county code",
    "township_code": "乡镇（街道）代码 township code",
    "cycle_id": "考核周期编号 assessment cycle id",
    "run_id": "工资核算批次编号 payroll run id",
    "case_id": "案例编号 work case id (E6)",
    "workers": "社工 workers",
    "visits": "走访记录 visits (E7)",
    "month": "月份 YYYY-MM",
    "cells": "薪酬表单元 cells of the scale (C4)",
    "lines": "工资条项目 payslip lines",
    "pool": "奖金总额 bonus pool (C5)",
    "shares": "奖金分配 shares of the pool (C5)",
    "rater_group": "评价主体 rater group (E2)",
    "from_community": "调出社区 from community (H5)",
    "to_community": "调入社区 to community (H5)",
    "kind": "类型 kind",
    "households": "户数 households (S2)",
    "population": "人口 population",
    "extra_staff_approval": "增配审批文件 approving document (S3)",
    # staffing and reports
    "findings": "问题 findings, each naming its rule",
    "communities": "社区 communities",
    "used": "已用 used",
    "expected": "应为 expected value under the rule",
    "actual": "实际 actual value",
    "rule": "政策规则 POLICY.md rule id",
    "renewable": "可续签 may be renewed (H7, H8)",
    "rank": "排名 rank",
    "score": "成绩 score",
    "reserve_used": "已入储备 reserve entries so far (H2)",
    "candidates": "候选人 candidates (H2)",
    "approval": "审批文件 approving document",
    # identity and access
    "grants": "授权 grants: a role or personal_data for a region",
    "client_id": "客户端编号 client id",
    "client_secret": "客户端密钥 client secret",
    "department": "所属部门 owning department",
    "grant_type": "授权类型 OAuth2 grant type",
    "password": "密码 password",
    "refresh_token": "刷新令牌 refresh token",
    "token": "令牌 token",
    "token_type": "令牌类型 token type",
    "user_agent": "客户端标识 User-Agent",
    "ip": "来源地址 address",
    "details": "详情 details",
    "worker_ref": "社工编号 worker id",
    # pages and errors
    "limit": "每页条数 page size (1–500)",
    "cursor": "游标 the next_cursor of the previous page",
    "after": "游标 the next_cursor of the previous page",
    "level": "层级 region level",
    "county": "县级区划代码 county code",
    "region_code": "区划代码 region code",
    "hired_from": "入职起 hired on or after",
    "hired_to": "入职止 hired on or before",
    "grant_id": "授权编号 grant id",
    "session_id": "会话编号 session id",
    "items": "条目 items",
    "next_cursor": "下一页游标 cursor of the next page",
    "type": "类型 type",
    "title": "标题 title",
    "detail": "说明 detail",
    "instance": "出错地址 the request path",
    "errors": "字段错误 one entry per bad field",
    "pointer": "字段位置 JSON pointer to the field",
    "field": "字段名 field name",
}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def apply_glossary(document: dict[str, Any]) -> None:
    """Give every schema property and parameter without a Chinese name its glossary entry."""

    def describe(name: str, spec: dict[str, Any]) -> None:
        description = spec.get("description", "")
        if _has_chinese(description):
            return
        base = GLOSSARY.get(name)
        if base is not None:
            spec["description"] = f"{base}; {description}" if description else base

    for schema in document.get("components", {}).get("schemas", {}).values():
        for name, spec in schema.get("properties", {}).items():
            describe(name, spec)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    describe(parameter["name"], parameter)
