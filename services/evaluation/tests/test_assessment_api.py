"""Assessment through the API: scheme, cycle, scores, closing (panels, grades, the 优秀 cap), immutability,
appeals, and the H8 event."""

from __future__ import annotations

from sqlalchemy import text

from services.evaluation.projections import apply_worker
from services.evaluation.tests.conftest import NANHU_SCHEME, TOWNSHIP, Evaluation, hired_event

# Ten workers of one township: scores chosen so that four reach 优秀 (≥ 90) under Nanhu's weights.
SCORES = [
    ("80", "90", "95"),  # 90.00 excellent
    ("95", "95", "95"),  # 95.00 excellent
    ("90", "90", "93"),  # 91.80 excellent
    ("100", "100", "90"),  # 94.00 excellent
    ("80", "80", "80"),  # 80.00 competent
    ("70", "70", "75"),  # 73.00 competent
    ("60", "70", "66"),  # 64.60 basically competent
    ("50", "50", "60"),  # 56.00 incompetent
    ("75", "75", "75"),
    ("85", "85", "85"),
]


async def score_all(evaluation: Evaluation, cycle_id: str) -> None:
    for worker, (township, peers, residents) in zip(evaluation.workers, SCORES, strict=True):
        await evaluation.score(cycle_id, worker, township, peers, residents)


async def test_scheme_weights_must_add_up(evaluation: Evaluation) -> None:
    bad = NANHU_SCHEME | {"groups": [{"code": "peers", "weight": "0.5"}]}
    response = await evaluation.client.put("/v1/schemes/330302/2026", headers=evaluation.county, json=bad)
    assert response.status_code == 422
    assert response.json()["rule"] == "E2"


async def test_a_cycle_needs_the_countys_scheme(evaluation: Evaluation) -> None:
    response = await evaluation.client.post(
        "/v1/cycles", headers=evaluation.township, json={"township_code": TOWNSHIP, "year": 2030}
    )
    assert response.json()["rule"] == "E1"


async def test_closing_refuses_small_panels_then_grades_with_the_cap(evaluation: Evaluation) -> None:
    cycle = await evaluation.open_cycle()
    await score_all(evaluation, cycle)
    await evaluation.score(cycle, evaluation.workers[0], "80", "90", "95", panel=49)  # below the 50 of the scheme
    refused = await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=evaluation.township)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "E2"
    assert "panel of 49" in refused.json()["errors"][0]["detail_en"]
    assert "评价人数 49" in refused.json()["errors"][0]["detail_zh"] == refused.json()["errors"][0]["detail"]

    await evaluation.score(cycle, evaluation.workers[0], "80", "90", "95", panel=50)
    closed = await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=evaluation.township)
    assert closed.status_code == 200, closed.text
    results = {r["worker_id"]: r for r in closed.json()}
    w = evaluation.workers
    assert [results[x]["score"] for x in w[:4]] == ["90.00", "95.00", "91.80", "94.00"]
    # Cap 20 % of 10 workers: the two best 优秀 stay, the two lowest-ranked become 合格.
    assert [results[x]["grade"] for x in w[:4]] == ["competent", "excellent", "competent", "excellent"]
    assert [results[x]["capped"] for x in w[:4]] == [True, False, True, False]
    assert [results[x]["grade"] for x in w[4:8]] == ["competent", "competent", "basically_competent", "incompetent"]
    assert [r["rank"] for r in closed.json()] == list(range(1, 11))

    async with evaluation.service.app.state.sessionmaker() as session:
        finalized = await session.scalar(
            text("SELECT count(*) FROM evaluation.events WHERE type = 'assessment.finalized'")
        )
    assert finalized == 10
    async with evaluation.service.app.state.sessionmaker() as session:
        order = (
            await session.execute(
                text(
                    "SELECT type, data FROM evaluation.events WHERE type IN ('assessment.finalized', 'cycle.closed') "
                    "ORDER BY id"
                )
            )
        ).all()
    # cycle.closed last, after every grade (a reader that has it has them all: the C5 bonus waits for it)
    assert [t for t, _ in order] == ["assessment.finalized"] * 10 + ["cycle.closed"]
    assert order[-1].data["results"] == 10
    assert order[-1].data["township_code"] == TOWNSHIP
    assert order[-1].data["cycle_id"] == cycle

    # Closed means closed: no more scores; an appeal changes one result, with reason and who decided.
    late = await evaluation.client.post(
        f"/v1/cycles/{cycle}/scores",
        headers=evaluation.township,
        json={"entries": [{"worker_id": w[7], "rater_group": "peers", "score": "99"}]},
    )
    assert late.status_code == 409
    appealed = await evaluation.client.post(
        f"/v1/cycles/{cycle}/results/{w[7]}/appeal",
        headers=evaluation.township,
        json={"grade": "basically_competent", "reason": "复核：居民评议样本有误"},
    )
    assert appealed.status_code == 200
    assert appealed.json()["grade"] == "basically_competent"
    assert appealed.json()["appeal_reason"] == "复核：居民评议样本有误"
    again = await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=evaluation.township)
    assert again.status_code == 409


async def test_second_consecutive_incompetent_raises_the_h8_event(evaluation: Evaluation) -> None:
    w = evaluation.workers
    for year in (2025, 2026):
        cycle = await evaluation.open_cycle(year)
        await score_all(evaluation, cycle)
        assert (
            await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=evaluation.township)
        ).status_code == 200
    async with evaluation.service.app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                text("SELECT subject, data FROM evaluation.events WHERE type = 'assessment.second_incompetent'")
            )
        ).all()
    assert [(r.subject, r.data["year"], r.data["rule"]) for r in rows] == [(f"worker/{w[7]}", 2026, "H8")]


async def test_outside_the_township_and_the_workers_own_view(evaluation: Evaluation) -> None:
    cycle = await evaluation.open_cycle()
    other = evaluation.as_(("township_officer", "330302002000"))
    assert (await evaluation.client.get(f"/v1/cycles/{cycle}", headers=other)).status_code == 404
    await score_all(evaluation, cycle)
    await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=evaluation.township)
    me = evaluation.as_(("worker", "330302001001"), worker_id=evaluation.workers[0])
    mine = await evaluation.client.get(f"/v1/workers/{evaluation.workers[0]}/assessments", headers=me)
    assert [r["year"] for r in mine.json()] == [2026]
    assert (
        await evaluation.client.get(f"/v1/workers/{evaluation.workers[2]}/assessments", headers=me)
    ).status_code == 404


async def test_scores_for_workers_of_another_township_name_each_entry(evaluation: Evaluation) -> None:
    """E2: a township enters scores for its own workers; the entries that are not are named, nothing stored."""
    cycle = await evaluation.open_cycle()
    stranger = "00000000-0000-4000-8000-000000000001"
    response = await evaluation.client.post(
        f"/v1/cycles/{cycle}/scores",
        headers=evaluation.township,
        json={
            "entries": [
                {"worker_id": evaluation.workers[0], "rater_group": "peers", "score": "90"},
                {"worker_id": stranger, "rater_group": "peers", "score": "90"},
                {"worker_id": stranger, "rater_group": "residents", "score": "90"},
            ]
        },
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["detail"] == "有 2 条评分不属于本乡镇社工"
    assert [(e["pointer"], e["type"]) for e in problem["errors"]] == [
        ("/body/entries/1/worker_id", "scope"),
        ("/body/entries/2/worker_id", "scope"),
    ]
    async with evaluation.service.app.state.sessionmaker() as session:
        assert await session.scalar(text("SELECT count(*) FROM evaluation.scores")) == 0


async def test_projection_applies_roster_events_idempotently(evaluation: Evaluation) -> None:
    worker = evaluation.workers[0]
    async with evaluation.service.app.state.sessionmaker() as session:
        await apply_worker(session, hired_event(worker, "330302001002", version=3, status="on_loan"))
        await apply_worker(session, hired_event(worker, "330302001001", version=2))  # an older event, repeated late
        await apply_worker(session, hired_event(worker, "330302001002", version=3, status="on_loan"))  # a repeat
        row = (
            await session.execute(
                text("SELECT community_code, status, source_version FROM evaluation.workers WHERE worker_id = :w"),
                {"w": worker},
            )
        ).one()
    assert tuple(row) == ("330302001002", "on_loan", 3)


async def test_an_appeal_that_makes_a_second_incompetent_raises_h8(evaluation: Evaluation) -> None:
    w = evaluation.workers
    for year in (2025, 2026):
        cycle = await evaluation.open_cycle(year)
        await score_all(evaluation, cycle)
        assert (
            await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=evaluation.township)
        ).status_code == 200
    # w[6] was 基本合格 in both years; 2025 appealed to 不合格 first, then 2026: the second in a row.
    cycles = {}
    async with evaluation.service.app.state.sessionmaker() as session:
        for year in (2025, 2026):
            cycles[year] = await session.scalar(text("SELECT id FROM evaluation.cycles WHERE year = :y"), {"y": year})
    for year in (2025, 2026):
        appealed = await evaluation.client.post(
            f"/v1/cycles/{cycles[year]}/results/{w[6]}/appeal",
            headers=evaluation.township,
            json={"grade": "incompetent", "reason": "复核：有投诉查实"},
        )
        assert appealed.status_code == 200
    async with evaluation.service.app.state.sessionmaker() as session:
        subjects = (
            await session.scalars(
                text("SELECT subject FROM evaluation.events WHERE type = 'assessment.second_incompetent'")
            )
        ).all()
    assert subjects.count(f"worker/{w[6]}") == 1  # raised by the 2026 appeal, not by the 2025 one


async def test_daily_scores_weigh_in_by_the_schemes_weight(evaluation: Evaluation) -> None:
    scheme = NANHU_SCHEME | {"daily_weight": "0.4", "excellent_cap_share": None}
    assert (
        await evaluation.client.put("/v1/schemes/330302/2026", headers=evaluation.county, json=scheme)
    ).status_code == 200
    cycle = (
        await evaluation.client.post(
            "/v1/cycles", headers=evaluation.township, json={"township_code": TOWNSHIP, "year": 2026}
        )
    ).json()["id"]
    await score_all(evaluation, cycle)
    w = evaluation.workers
    daily = await evaluation.client.post(
        f"/v1/cycles/{cycle}/daily-scores",
        headers=evaluation.township,
        json={"entries": [{"worker_id": w[0], "score": "70"}]},
    )
    assert daily.status_code == 200
    bad = await evaluation.client.post(
        f"/v1/cycles/{cycle}/daily-scores",
        headers=evaluation.township,
        json={"entries": [{"worker_id": w[0], "score": "170"}]},
    )
    assert bad.status_code == 422
    results = {
        r["worker_id"]: r
        for r in (await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=evaluation.township)).json()
    }
    assert results[w[0]]["score"] == "82.00"  # annual 90 × 0.6 + daily 70 × 0.4 (E1)
    assert results[w[1]]["score"] == "95.00"  # no daily score: the annual one alone
