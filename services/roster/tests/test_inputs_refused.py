"""Inputs the database cannot hold are refused as a 422 (or 400) naming the field, never a 500 (issue 11)."""

from __future__ import annotations

import base64
import json

import pytest

from services.roster.tests.conftest import COMMUNITY_A, COUNTY, Roster, id_number


async def _problem(response: object, status: int, pointer: str) -> None:
    assert getattr(response, "status_code", None) == status, getattr(response, "text", "")
    headers = getattr(response, "headers", {})
    assert headers["content-type"] == "application/problem+json"
    body = response.json()  # type: ignore[attr-defined]
    assert pointer in [e["pointer"] for e in body["errors"]], body


async def test_nul_in_a_json_body_is_refused_naming_the_field(roster: Roster) -> None:
    body = {"id_number": id_number(90), "name": "张\u0000三", "community_code": COMMUNITY_A, "hire_date": "2026-01-05"}
    response = await roster.client.post("/v1/workers", headers=roster.province_admin, json=body)
    await _problem(response, 422, "/body/name")
    assert "U+0000" in response.json()["errors"][0]["detail_en"]


async def test_nul_in_the_query_or_the_path_is_refused(roster: Roster) -> None:
    query = await roster.client.get("/v1/workers?name=a%00b", headers=roster.province_admin)
    await _problem(query, 422, "/query/name")
    path = await roster.client.get("/v1/regions/3303%0002", headers=roster.province_admin)
    await _problem(path, 422, "/path")


async def test_years_and_counts_beyond_the_columns_are_refused(roster: Roster) -> None:
    year = await roster.client.get(f"/v1/staffing-policies/{COUNTY}/60908707", headers=roster.province_admin)
    await _problem(year, 422, "/path/year")
    url = f"/v1/regions/{COMMUNITY_A}"
    etag = (await roster.client.get(url, headers=roster.province_admin)).headers["etag"]
    huge = await roster.client.patch(
        url, headers={**roster.province_admin, "If-Match": etag}, json={"households": 2**31}
    )
    await _problem(huge, 422, "/body/households")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!not base64!!!",
        "A" * 5000,
        base64.urlsafe_b64encode(b'{"k": 1}').decode(),
    ],
)
async def test_a_malformed_or_huge_cursor_is_a_400_naming_it(roster: Roster, cursor: str) -> None:
    response = await roster.client.get("/v1/workers", params={"cursor": cursor}, headers=roster.province_admin)
    await _problem(response, 400, "/query/cursor")


async def test_a_forged_cursor_with_the_right_filters_is_refused(roster: Roster) -> None:
    """The digest of the filters is no secret: a cursor carrying a key of the wrong kind must not reach SQL."""
    await roster.hire(92)
    await roster.hire(93)
    response = await roster.client.get("/v1/workers", headers=roster.province_admin, params={"limit": 1})
    real = response.json()["next_cursor"]
    filters = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))["f"]
    for key in (["not-a-uuid"], [10**30], [None], ["a", "b"]):
        forged = base64.urlsafe_b64encode(json.dumps({"k": key, "f": filters}).encode()).decode()
        refused = await roster.client.get(
            "/v1/workers", headers=roster.province_admin, params={"limit": 1, "cursor": forged}
        )
        await _problem(refused, 400, "/query/cursor")


@pytest.mark.parametrize("key", ["caf\u00e9".encode("latin-1"), b"nul\x00key", "tab\there", "x" * 201])
async def test_an_idempotency_key_that_is_not_printable_ascii_is_refused(roster: Roster, key: str | bytes) -> None:
    body = {"id_number": id_number(91), "name": "键", "community_code": COMMUNITY_A, "hire_date": "2026-01-05"}
    raw = key if isinstance(key, bytes) else key.encode("latin-1")
    headers = {k.encode(): v.encode() for k, v in roster.province_admin.items()} | {b"Idempotency-Key": raw}
    response = await roster.client.post("/v1/workers", headers=headers, json=body)
    await _problem(response, 422, "/header/Idempotency-Key")


async def test_if_match_compares_strongly_a_weak_etag_never_matches(roster: Roster) -> None:
    url = f"/v1/regions/{COMMUNITY_A}"
    etag = (await roster.client.get(url, headers=roster.province_admin)).headers["etag"]
    weak = await roster.client.patch(url, headers={**roster.province_admin, "If-Match": f"W/{etag}"}, json={})
    assert weak.status_code == 412
    missing = await roster.client.patch(url, headers=roster.province_admin, json={})
    assert missing.status_code == 428
    strong = await roster.client.patch(url, headers={**roster.province_admin, "If-Match": etag}, json={})
    assert strong.status_code == 200
