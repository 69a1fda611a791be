"""Hiring a person: working age on the hire date (18, and the 2025 statutory retirement schedule), a real
birth date, and a record that agrees with the ID number (GB 11643); every refusal names its field in both
languages (Messages)."""

from __future__ import annotations

from typing import Any

import httpx

from services.roster.tests.conftest import COMMUNITY_A, Roster, id_number


async def hire(roster: Roster, number: str, hire_date: str = "2026-01-05", **fields: Any) -> httpx.Response:
    return await roster.client.post(
        "/v1/workers",
        headers={**roster.province_admin, "Accept-Language": "en"},
        json={"id_number": number, "name": "张三", "community_code": COMMUNITY_A, "hire_date": hire_date} | fields,
    )


def refused_field(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["detail_zh"]
    assert error["detail_en"]
    entry: dict[str, Any] = error
    return entry


async def test_working_age_at_least_18_on_the_hire_date(roster: Roster) -> None:
    minor = id_number(1, birth="20080301")
    error = refused_field(await hire(roster, minor, "2026-02-28"))
    assert error["pointer"] == "/body/hire_date"
    assert "under 18" in error["detail_en"]
    assert "18" in error["detail_zh"]
    assert (await hire(roster, minor, "2026-03-01")).status_code == 201


async def test_working_age_below_the_2025_statutory_retirement_age(roster: Roster) -> None:
    """A man born 1966-01-01 retires at 60 years 4 months (2026-05-01); a woman born 1971-03-10 on the
    cadre track at 55 years 4 months (2026-07-10)."""
    man = id_number(2, birth="19660101")
    error = refused_field(await hire(roster, man, "2026-05-01"))
    assert error["pointer"] == "/body/hire_date"
    assert "60 years 4 months" in error["detail_en"]
    assert "60 岁 4 个月" in error["detail_zh"]
    assert (await hire(roster, man, "2026-04-30")).status_code == 201
    woman = id_number(3, birth="19710310", male=False)
    assert "55 years 4 months" in refused_field(await hire(roster, woman, "2026-07-10"))["detail_en"]
    assert (await hire(roster, woman, "2026-07-09")).status_code == 201


async def test_birth_date_in_the_future_is_refused(roster: Roster) -> None:
    unborn = id_number(4, birth="20990101")
    error = refused_field(await hire(roster, unborn))
    assert error["pointer"] == "/body/id_number"
    assert "future" in error["detail_en"]


async def test_birth_date_and_sex_must_agree_with_the_id_number(roster: Roster) -> None:
    number = id_number(5, birth="19900101", male=True)
    assert refused_field(await hire(roster, number, birth_date="1990-01-02"))["pointer"] == "/body/birth_date"
    assert refused_field(await hire(roster, number, sex="female"))["pointer"] == "/body/sex"
    agreed = await hire(roster, number, birth_date="1990-01-01", sex="male")
    assert agreed.status_code == 201, agreed.text


async def test_messages_every_field_error_in_both_languages_with_pointer_and_rule(roster: Roster) -> None:
    """Messages: a walk through representative bad requests; each errors[] entry has detail_zh and
    detail_en, a JSON pointer, and the rule where one governs the field (C4, S3, S5, H6)."""
    worker = (await hire(roster, id_number(6))).json()
    cases: list[tuple[str, str, dict[str, Any], str, str | None]] = [
        ("POST", "/v1/workers", {"name": "x"}, "/body/id_number", None),  # missing field (pydantic)
        (
            "POST",
            f"/v1/workers/{worker['id']}/posts",
            {"post": "staff", "grade": 19, "start_date": "2026-02-01"},
            "/body/grade",
            "C4",
        ),  # schema bound from the field's description
        (
            "POST",
            f"/v1/workers/{worker['id']}/posts",
            {"post": "chief", "grade": 3, "start_date": "2026-02-01"},
            "/body/grade",
            "C4",
        ),  # a chief is graded 7–18 (policy check)
        (
            "POST",
            "/v1/regions",
            {"code": "330302001010", "name": "x", "parent_code": "330302001000", "kind": "urban", "extra_staff": 1},
            "/body/extra_staff",
            "S3",
        ),
        (
            "POST",
            f"/v1/workers/{worker['id']}/secondments",
            {"kind": "loan", "host": "x", "start_date": "2026-03-01", "end_date": "2026-04-01"},
            "/body/approval",
            "H6",
        ),
        (
            "POST",
            "/v1/workers",
            {"id_number": id_number(7), "name": "x", "community_code": COMMUNITY_A, "hire_date": "2031-01-06"},
            "/body/hire_date",
            "S5",
        ),  # no 2031 quota
        ("POST", "/v1/regions", {"code": "000000", "name": "x"}, "/body/code", None),
    ]
    for method, url, body, pointer, rule in cases:
        for language in ("zh-CN", "en"):
            response = await roster.client.request(
                method, url, json=body, headers={**roster.province_admin, "Accept-Language": language}
            )
            assert response.status_code == 422, (url, body, response.text)
            errors = {e["pointer"]: e for e in response.json()["errors"]}
            assert pointer in errors, (url, response.text)
            entry = errors[pointer]
            assert entry["detail_zh"], entry
            assert entry["detail_en"], entry
            assert entry["detail_zh"] != entry["detail_en"], entry
            assert entry["detail"] == entry["detail_zh" if language == "zh-CN" else "detail_en"]
            assert entry["field"] == pointer.rsplit("/", 1)[-1]
            assert entry["rule"] == rule, (url, entry)
