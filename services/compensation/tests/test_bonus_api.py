"""C5: a township's bonus pool is allocated once a year; a change is a replacement that reverses the earlier
allocation and keeps it in the ledger. Through the HTTP API, on PostgreSQL."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from services.compensation.models import BonusAllocation
from services.compensation.tests.conftest import TOWNSHIP, Compensation, graded_events

COEFFICIENTS = {"excellent": "1.2", "competent": "1.0", "basically_competent": "0.8", "incompetent": "0"}
URL = "/v1/bonus-allocations"


async def graded(compensation: Compensation, workers: list[str], grades: tuple[str, ...], year: int = 2025) -> None:
    """The workers' grades of the year from the evaluation service's feed, and the county's coefficients (C5)."""
    await compensation.feed(*graded_events(workers, grades, year))
    await coefficients(compensation, year)


async def coefficients(compensation: Compensation, year: int) -> None:
    """The county's bonus coefficient of each grade for the year (C5)."""
    profile = await compensation.client.put(
        f"/v1/policy-profiles/330302/{year}",
        headers=compensation.county,
        json={
            "preset": None,
            "parameters": {"bonus_coefficients": COEFFICIENTS},
            "sources": {"bonus_coefficients": "鹿城区绩效奖金分配办法"},
        },
    )
    assert profile.status_code == 200, profile.text


async def assessed(compensation: Compensation, *grades: str) -> list[str]:
    """Workers of the township in post since 2025-01-05 with their 2025 grades, and the county's coefficients."""
    workers = [await compensation.worker(start="2025-01-05") for _ in grades]
    await graded(compensation, workers, grades)
    return workers


async def test_c5_the_pool_is_shared_only_once_the_townships_cycle_closed_with_every_grade(
    compensation: Compensation,
) -> None:
    """C5 shares the pool among every graded worker: while the evaluation feed has brought some grades but not
    the township's ``cycle.closed`` (recorded after all of them), allocating is refused with 409 naming C5
    and nothing is allocated; once it arrives the pool is shared among all the cycle's workers."""
    workers = [await compensation.worker(start="2025-01-05") for _ in range(3)]
    events = graded_events(workers, ("excellent", "competent", "competent"), 2025)
    await coefficients(compensation, 2025)
    await compensation.feed(*events[:2])  # two grades of three arrived, the cycle's close not yet
    body = {"township_code": TOWNSHIP, "year": 2025, "pool": "32000.00"}
    early = await compensation.client.post(URL, headers=compensation.township, json=body)
    assert early.status_code == 409, early.text
    assert early.json()["rule"] == "C5"
    assert "2025" in early.json()["detail"]
    ledger = await compensation.client.get(
        URL, headers=compensation.township, params={"township_code": TOWNSHIP, "year": 2025}
    )
    assert ledger.json() == []
    await compensation.feed(*events[2:])  # the last grade, then cycle.closed
    allocated = await compensation.client.post(URL, headers=compensation.township, json=body)
    assert allocated.status_code == 201, allocated.text
    shares = {s["worker_id"]: Decimal(s["share"]) for s in allocated.json()["shares"]}
    assert set(shares) == set(workers)
    # 1.2 : 1.0 : 1.0 of 32,000 for twelve months each
    assert shares[workers[0]] == Decimal("12000.00")
    assert shares[workers[1]] == shares[workers[2]] == Decimal("10000.00")


async def test_c5_a_second_allocation_of_the_township_and_year_is_refused_naming_the_first(
    compensation: Compensation,
) -> None:
    await assessed(compensation, "excellent", "competent")
    body = {"township_code": TOWNSHIP, "year": 2025, "pool": "30000.00"}
    first = await compensation.client.post(URL, headers=compensation.township, json=body)
    assert first.status_code == 201, first.text
    assert first.json()["live"] is True
    again = await compensation.client.post(
        URL, headers=compensation.township | {"Accept-Language": "en"}, json=body | {"pool": "36000.00"}
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert (problem["rule"], problem["allocation_id"]) == ("C5", first.json()["id"])
    assert first.json()["id"] in problem["detail"]
    assert "replace" in problem["detail"]
    assert [(e["pointer"], e["rule"]) for e in problem["errors"]] == [("/body/year", "C5")]
    zh = await compensation.client.post(URL, headers=compensation.township, json=body)
    assert "已分配" in zh.json()["detail"]
    assert zh.json()["errors"][0]["detail"].startswith("该乡镇")
    ledger = await compensation.client.get(
        URL, headers=compensation.county, params={"township_code": TOWNSHIP, "year": 2025}
    )
    assert [a["pool"] for a in ledger.json()] == ["30000.00"]  # paid once


async def test_c5_the_same_idempotency_key_answers_the_first_allocation_again(compensation: Compensation) -> None:
    await assessed(compensation, "competent")
    headers = compensation.township | {"Idempotency-Key": str(uuid.uuid4())}
    body = {"township_code": TOWNSHIP, "year": 2025, "pool": "30000.00"}
    first = await compensation.client.post(URL, headers=headers, json=body)
    retried = await compensation.client.post(URL, headers=headers, json=body)
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.headers["idempotency-replayed"] == "true"
    assert retried.json() == first.json()
    ledger = await compensation.client.get(
        URL, headers=compensation.county, params={"township_code": TOWNSHIP, "year": 2025}
    )
    assert len(ledger.json()) == 1


async def test_c5_a_replacement_reverses_the_earlier_allocation_and_keeps_it(compensation: Compensation) -> None:
    good, fair = await assessed(compensation, "excellent", "competent")
    first = (
        await compensation.client.post(
            URL, headers=compensation.township, json={"township_code": TOWNSHIP, "year": 2025, "pool": "30000.00"}
        )
    ).json()
    replaced = await compensation.client.post(
        f"{URL}/{first['id']}/replace",
        headers=compensation.township,
        json={"pool": "33000.00", "reason": "乡镇追加奖金 3,000 元（镇党委会议纪要）"},
    )
    assert replaced.status_code == 201, replaced.text
    new = replaced.json()
    assert (new["replaces"], new["live"], new["pool"]) == (first["id"], True, "33000.00")
    assert new["reason"].startswith("乡镇追加")
    assert sum(Decimal(s["share"]) for s in new["shares"]) == Decimal("33000.00")  # to the cent
    shares = {s["worker_id"]: s["share"] for s in new["shares"]}
    assert shares == {good: "18000.00", fair: "15000.00"}  # 1.2 : 1.0 of 33,000
    old = (await compensation.client.get(f"{URL}/{first['id']}", headers=compensation.county)).json()
    assert (old["live"], old["replaced_by"], old["pool"]) == (False, new["id"], "30000.00")
    assert old["reversed_at"] is not None
    assert old["reversed_by"]
    twice = await compensation.client.post(
        f"{URL}/{first['id']}/replace", headers=compensation.township, json={"pool": "1.00", "reason": "again"}
    )
    assert (twice.status_code, twice.json()["rule"], twice.json()["allocation_id"]) == (409, "C5", new["id"])
    ledger = (
        await compensation.client.get(
            URL, headers=compensation.county, params={"township_code": TOWNSHIP, "year": 2025}
        )
    ).json()
    assert [(a["id"], a["live"]) for a in ledger] == [(first["id"], False), (new["id"], True)]
    post_again = await compensation.client.post(
        URL, headers=compensation.township, json={"township_code": TOWNSHIP, "year": 2025, "pool": "1.00"}
    )
    assert post_again.json()["allocation_id"] == new["id"]  # the live one is named


async def test_c5_the_database_admits_one_live_allocation_per_township_and_year(compensation: Compensation) -> None:
    async with compensation.service.app.state.sessionmaker() as session:
        for _ in range(2):
            session.add(
                BonusAllocation(township_code=TOWNSHIP, year=2025, pool=Decimal(1), shares=[], created_by="test")
            )
        with pytest.raises(IntegrityError, match="bonus_allocations_live_key"):
            await session.flush()


async def test_c5_months_in_post_end_on_the_leaving_date(compensation: Compensation) -> None:
    """A leaver's last post has no end of its own: the months count to the leaving date (C5 × C6)."""
    stays = await compensation.worker(start="2025-01-01")
    leaves = await compensation.worker(start="2025-01-01", left="2025-06-30")
    await graded(compensation, [stays, leaves], ("competent", "competent"))
    response = await compensation.client.post(
        URL, headers=compensation.township, json={"township_code": TOWNSHIP, "year": 2025, "pool": "17950.00"}
    )
    assert response.status_code == 201, response.text
    shares = {s["worker_id"]: (s["months"], s["share"]) for s in response.json()["shares"]}
    # 181 days of 365 (1 January – 30 June) = 5.95 months; 17,950 shared 12.00 : 5.95
    assert shares == {stays: ("12.00", "12000.00"), leaves: ("5.95", "5950.00")}


async def test_c5_a_pool_nobody_has_a_part_of_is_refused_naming_c5_not_a_500(compensation: Compensation) -> None:
    await assessed(compensation, "incompetent", "incompetent")  # coefficient 0 each
    response = await compensation.client.post(
        URL,
        headers=compensation.township | {"Accept-Language": "en"},
        json={"township_code": TOWNSHIP, "year": 2025, "pool": "1000.00"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["rule"] == "C5"
    assert "coefficient × months in post is 0" in response.json()["detail"]
