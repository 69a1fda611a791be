"""E5: 40 class hours a year; 39 is a finding and 40 is not. Attendance lists are recorded once."""

from __future__ import annotations

from services.evaluation.tests.conftest import Evaluation


async def test_39_hours_is_a_finding_and_40_is_not(evaluation: Evaluation) -> None:
    w = evaluation.workers
    course = {"organiser": "鹿城区民政局", "start_date": "2026-04-01", "end_date": "2026-04-05"}
    first = await evaluation.client.post(
        "/v1/training-records",
        headers=evaluation.township,
        json=course | {"course": "社区治理专题班", "hours": "32", "worker_ids": w[:2]},
    )
    assert first.json() == {"recorded": 2}
    await evaluation.client.post(
        "/v1/training-records",
        headers=evaluation.township,
        json=course | {"course": "社工实务", "hours": "7", "worker_ids": w[:2]},
    )
    await evaluation.client.post(
        "/v1/training-records",
        headers=evaluation.township,
        json=course | {"course": "补课", "hours": "1", "worker_ids": w[:1]},
    )
    repeat = await evaluation.client.post(
        "/v1/training-records",
        headers=evaluation.township,
        json=course | {"course": "补课", "hours": "1", "worker_ids": w[:1]},
    )
    assert repeat.json() == {"recorded": 0}  # the same list again changes nothing
    report = (
        await evaluation.client.get(
            "/v1/reports/training", headers=evaluation.county, params={"region": "330302", "year": 2026}
        )
    ).json()
    rows = {r["worker_id"]: r for r in report}
    assert (rows[w[0]]["hours"], rows[w[0]]["rule"]) == ("40.0", None)
    assert (rows[w[1]]["hours"], rows[w[1]]["rule"]) == ("39.0", "E5")
    assert rows[w[2]]["rule"] == "E5"


async def test_attendees_outside_the_region_are_refused(evaluation: Evaluation) -> None:
    elsewhere = evaluation.as_(("township_officer", "330302009000"))
    response = await evaluation.client.post(
        "/v1/training-records",
        headers=elsewhere,
        json={
            "course": "x",
            "organiser": "y",
            "hours": "8",
            "start_date": "2026-04-01",
            "end_date": "2026-04-01",
            "worker_ids": evaluation.workers[:1],
        },
    )
    assert response.status_code == 404
    problem = response.json()
    assert problem["detail"] == "1 名参训人员不存在或不在本辖区"
    assert [(e["pointer"], e["field"], e["type"]) for e in problem["errors"]] == [
        ("/body/worker_ids/0", "worker_ids", "scope")
    ]
