"""E6 work cases and E7 resident visits: offline uploads idempotent by the app's ids, 50 % of working
time visiting, must-visit households overdue."""

from __future__ import annotations

import uuid

from services.evaluation.tests.conftest import COMMUNITY_A, Evaluation


def visit(hours_from: int, hours_to: int, day: int = 3, **extra: str) -> dict[str, str]:
    return {
        "id": str(uuid.uuid4()),
        "community_code": COMMUNITY_A,
        "building": "3幢",
        "unit": "2单元",
        "household": "301",
        "started_at": f"2026-05-{day:02d}T{hours_from:02d}:00:00+08:00",
        "ended_at": f"2026-05-{day:02d}T{hours_to:02d}:00:00+08:00",
    } | extra


async def test_offline_batches_are_idempotent_and_a_reused_id_with_other_content_is_a_conflict(
    evaluation: Evaluation,
) -> None:
    me = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[0])
    first, second = visit(9, 11), visit(14, 15, timely_type="follow_up")
    uploaded = await evaluation.client.post("/v1/visits:batch", headers=me, json={"visits": [first, second]})
    assert [r["outcome"] for r in uploaded.json()["results"]] == ["stored", "stored"]
    again = await evaluation.client.post(
        "/v1/visits:batch", headers=me, json={"visits": [first, second | {"note": "改过"}]}
    )
    assert [r["outcome"] for r in again.json()["results"]] == ["duplicate", "conflict"]
    assert again.json()["results"][1]["errors"][0]["field"] == "id"
    for_someone_else = await evaluation.client.post(
        "/v1/visits:batch", headers=me, json={"visits": [visit(9, 10) | {"worker_id": evaluation.workers[2]}]}
    )
    (refused,) = for_someone_else.json()["results"]  # a worker records only their own visits
    assert refused["outcome"] == "refused"
    assert [e["field"] for e in refused["errors"]] == ["worker_id"]


async def test_e7_half_of_working_time_visiting(evaluation: Evaluation) -> None:
    busy = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[0])
    # 22 days × 4 h = 88 h of 174 working hours: 50.6 %
    batch = [visit(9, 13, day=d) for d in range(1, 23)]
    await evaluation.client.post("/v1/visits:batch", headers=busy, json={"visits": batch})
    idle = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[2])
    await evaluation.client.post(
        "/v1/visits:batch", headers=idle, json={"visits": [visit(9, 17, day=d) for d in range(1, 11)]}
    )  # 80 h
    report = (
        await evaluation.client.get(
            "/v1/reports/visits", headers=evaluation.county, params={"region": "330302", "month": "2026-05"}
        )
    ).json()
    rows = {r["worker_id"]: r for r in report["workers"]}
    assert (rows[evaluation.workers[0]]["visit_hours"], rows[evaluation.workers[0]]["rule"]) == ("88.0", None)
    assert (rows[evaluation.workers[2]]["visit_hours"], rows[evaluation.workers[2]]["rule"]) == ("80.0", "E7")


async def test_must_visit_households_overdue_are_listed(evaluation: Evaluation) -> None:
    for household, since in (("301", "2026-04-01"), ("502", "2026-04-01"), ("101", "2026-05-20")):
        registered = await evaluation.client.post(
            "/v1/must-visit-households",
            headers=evaluation.township,
            json={
                "community_code": COMMUNITY_A,
                "building": "3幢",
                "unit": "2单元",
                "household": household,
                "category": "newly_moved_in",
                "since": since,
            },
        )
        assert registered.status_code == 201
    me = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[0])
    await evaluation.client.post(
        "/v1/visits:batch",
        headers=me,
        json={
            "visits": [
                visit(9, 10, day=2)
                | {
                    "must_visit_category": "newly_moved_in",
                    "started_at": "2026-04-10T09:00:00+08:00",
                    "ended_at": "2026-04-10T10:00:00+08:00",
                }
            ]
        },
    )
    report = (
        await evaluation.client.get(
            "/v1/reports/visits", headers=evaluation.county, params={"region": "330302", "month": "2026-05"}
        )
    ).json()
    # 301 was visited in time; 502 was due by 1 May and was not; 101 is not due until June.
    assert [(h["household"], h["due"]) for h in report["open_must_visits"]] == [("502", "2026-05-01")]


async def test_e6_one_case_a_year_reviewed_by_the_township(evaluation: Evaluation) -> None:
    me = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[0])
    submitted = await evaluation.client.post(
        "/v1/work-cases", headers=me, json={"year": 2026, "title": "老旧小区加装电梯协调", "content": "……"}
    )
    assert submitted.status_code == 201
    twice = await evaluation.client.post(
        "/v1/work-cases", headers=me, json={"year": 2026, "title": "再交一篇", "content": "……"}
    )
    assert twice.status_code == 409
    case_id = submitted.json()["id"]
    returned = await evaluation.client.post(
        f"/v1/work-cases/{case_id}/review",
        headers=evaluation.township,
        json={"decision": "returned", "comment": "请补充居民反馈"},
    )
    assert returned.json()["status"] == "returned"
    resubmitted = await evaluation.client.post(
        "/v1/work-cases",
        headers=me,
        json={"year": 2026, "title": "老旧小区加装电梯协调（修改）", "content": "……居民反馈……"},
    )
    assert resubmitted.json()["status"] == "submitted"
    outsider = evaluation.as_(("township_officer", "330302009000"))
    assert (
        await evaluation.client.post(
            f"/v1/work-cases/{case_id}/review", headers=outsider, json={"decision": "approved"}
        )
    ).status_code == 404
    approved = await evaluation.client.post(
        f"/v1/work-cases/{case_id}/review", headers=evaluation.township, json={"decision": "approved"}
    )
    assert approved.json()["status"] == "approved"


async def test_compliance_report_rolls_e5_e6_e7_up_to_the_county(evaluation: Evaluation) -> None:
    w = evaluation.workers
    await evaluation.client.post(
        "/v1/training-records",
        headers=evaluation.township,
        json={
            "course": "全年培训",
            "organiser": "区民政局",
            "hours": "40",
            "start_date": "2026-03-01",
            "end_date": "2026-03-05",
            "worker_ids": [w[0]],
        },
    )
    me = evaluation.as_(("worker", COMMUNITY_A), worker_id=w[0])
    await evaluation.client.post(
        "/v1/visits:batch", headers=me, json={"visits": [visit(8, 12, day=d) for d in range(1, 23)]}
    )
    case = await evaluation.client.post(
        "/v1/work-cases", headers=me, json={"year": 2026, "title": "案例", "content": "……"}
    )
    await evaluation.client.post(
        f"/v1/work-cases/{case.json()['id']}/review", headers=evaluation.township, json={"decision": "approved"}
    )
    report = (
        await evaluation.client.get(
            "/v1/reports/compliance", headers=evaluation.county, params={"region": "330302", "month": "2026-05"}
        )
    ).json()
    rows = {r["worker_id"]: r for r in report["workers"]}
    assert rows[w[0]]["findings"] == []
    assert rows[w[1]]["findings"] == ["E5", "E6", "E7"]
    county = report["rollup"]["county:330302"]
    assert (county["workers"], county["E5"], county["E6"], county["E7"]) == (10, 9, 9, 9)
