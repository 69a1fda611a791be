"""The C5 bonus is paid once, and exactly the live share, as a property (hypothesis, stateful).

The world of ``test_payroll_property.PaidOnce`` (hires, leavings, re-hires, back-dated grades and
certificates, payroll runs at township, county and city level approved or not, cancelled, paid, reversed
and run again, the ``settle`` step that closes a month) with its own invariants on the wage, and on top of
it: 2026 assessment grades (fed with each hire, and changed), the county's bonus coefficients, and each
township's 2026 allocation posted and replaced with random pools (cents). Driven through the compensation
service's HTTP API and feed handlers on the real PostgreSQL.

The model: every calculation of a run r (200), for every worker of r's region whose month no other live run
holds, and every township of r's region with a live allocation, pays
``due = live share (0 if none) − Σ what the other live runs pay of that worker's bonus of the township``
when ``due ≠ 0`` (the allocation live then is named), unless another run not yet approved (calculating,
calculated) holds a payout of that bonus: then the due waits for it. A run's payouts go when it leaves the
live states (cancelled, reversed; a reversal is refused while a later payout of the same bonus counted its
own). The shares are the allocation's as the API answered them (how a pool is shared is ``test_bonus_api``'s
and the domain tests' concern).

What must hold:

- after every step: the payouts of live runs are exactly the model's (run, worker, township, year, amount,
  allocation), no non-live run has any, every payout is on a payslip of its run, and each payslip's
  ``bonus`` is the sum of its run's payouts for the worker;
- after every step: what live runs pay of a worker's bonus is 0 or a share the worker was allocated by one
  of the township's allocations (live or replaced) — never more than was ever allocated, never a clawback of
  money that was not paid: payouts come and go like a stack, only the last one can go;
- right after each calculation (consequence 1): for every worker it reached whose bonus no other unapproved
  run holds, what live runs pay of each township's bonus is the live share exactly (0 for a worker no longer
  in the allocation);
- at every ``settle`` (unapproved runs cancelled, a city-wide run of a new month calculated and approved):
  what approved and paid runs pay of each township's bonus is, per worker, the live share (0 for a worker
  paid under an earlier allocation but not in the live one), and the allocation's payouts list shows
  exactly those payouts.

``make test`` runs a bounded number of examples (PaidOnce's rules share the steps, hence 30);
``SHEGONG_BONUS_PROPERTY_PROFILE=bonus-long`` (or ``SHEGONG_PAYROLL_PROPERTY_PROFILE=payroll-long``, as
``make test-property`` sets it) the long profile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from services.compensation.projections import apply_evaluation_page
from services.compensation.tests.conftest import graded_events
from services.compensation.tests.test_payroll_property import COUNTY, LAST_MONTH, LEVELS, TOWNSHIPS, PaidOnce
from shared.regions import contains

settings.register_profile(
    "bonus-ci", max_examples=12, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "bonus-long", max_examples=300, stateful_step_count=40, deadline=None, suppress_health_check=list(HealthCheck)
)
LONG = os.environ.get("SHEGONG_PAYROLL_PROPERTY_PROFILE") == "payroll-long"
PROFILE = os.environ.get("SHEGONG_BONUS_PROPERTY_PROFILE", "bonus-long" if LONG else "bonus-ci")

YEAR = 2026
GRADES = ("excellent", "competent", "basically_competent", "incompetent")
COEFFICIENT_TABLES = (
    {"excellent": "1.2", "competent": "1.0", "basically_competent": "0.8", "incompetent": "0"},
    {"excellent": "1.5", "competent": "1.0", "basically_competent": "0.5", "incompetent": "0"},
    {"excellent": "1.1", "competent": "1.0", "basically_competent": "0.9", "incompetent": "0.3"},
)
LIVE = ("calculating", "calculated", "approved", "paid")
UNAPPROVED = ("calculating", "calculated")
POOLS = st.integers(1, 5_000_000).map(lambda cents: Decimal(cents) / 100)  # 0.01 … 50,000.00

Key = tuple[str, str]  # (worker, township): the year is 2026 throughout


@dataclass(frozen=True)
class Payout:
    amount: Decimal
    allocation_id: str


@dataclass(frozen=True)
class Allocation:
    id: str
    pool: Decimal
    shares: dict[str, Decimal]  # worker → share


class BonusPaidOnce(PaidOnce):
    """One example: PaidOnce's world, and the C5 bonus paid on its runs."""

    def __init__(self) -> None:
        self.grades: dict[str, str] = {}  # worker → 2026 assessment grade
        self.coefficients: dict[str, Decimal] = {}
        self.live: dict[str, Allocation] = {}  # township → its live 2026 allocation
        self.ever: dict[str, list[Allocation]] = {}  # township → every allocation it had, replaced ones too
        self.payouts: dict[str, dict[Key, Payout]] = {}  # run → what it pays (the model)
        self.closed: set[str] = set()  # townships whose 2026 cycle compensation has seen closed
        super().__init__()

    # -- hooks into PaidOnce ---------------------------------------------------------------------------
    def _hire(self, township: str, day: int, grade: int) -> str:
        """A hire, and (four grades in five) the worker's 2026 assessment grade, fed from the evaluation."""
        worker = super()._hire(township, day, grade)
        if grade % 5:
            self._assess(worker, GRADES[grade % 4])
        return worker

    def post(self, path: str, **params: str) -> httpx.Response:
        """Every calculation of PaidOnce's rules (and ours) goes through here: the model follows it."""
        response = super().post(path, **params)
        if path.endswith("/calculate") and response.status_code == 200:
            self._calculated(response.json())
        return response

    @precondition(lambda self: self.current < LAST_MONTH)
    @rule()
    def settle(self) -> None:
        super().settle()
        self._settled()

    # -- the bonus world -------------------------------------------------------------------------------
    def _assess(self, worker: str, grade: str) -> None:
        """The worker's grade, then its township's cycle closed (the evaluation's order: C5 shares after it)."""
        self.grades[worker] = grade
        township = self.model[worker].township
        self.closed.add(township)
        self.call(self._feed_grades(graded_events([worker], (grade,), YEAR, township)))

    async def _feed_grades(self, page: list[dict[str, Any]]) -> None:
        async with self.app.state.sessionmaker() as session:
            await apply_evaluation_page(session, page)
            await session.commit()

    def _set_coefficients(self, table: dict[str, str]) -> None:
        response: httpx.Response = self.call(
            self.client.put(
                f"/v1/policy-profiles/{COUNTY}/{YEAR}",
                headers=self.headers,
                json={"parameters": {"bonus_coefficients": table}, "sources": {"bonus_coefficients": "性质测试 test"}},
            )
        )
        assert response.status_code == 200, response.text
        self.coefficients = {grade: Decimal(c) for grade, c in table.items()}

    @initialize(target=PaidOnce.workers, table=st.sampled_from(COEFFICIENT_TABLES), day=st.integers(0, 30), pool=POOLS)
    def bonus_world(self, table: dict[str, str], day: int, pool: Decimal) -> str:
        """The county's coefficients, a competent worker of the second township and its allocation: the bonus
        is in play from the first run on."""
        self._set_coefficients(table)
        worker = self._hire(TOWNSHIPS[1], day, 1)  # grade 1: competent
        self.allocate(TOWNSHIPS[1], pool)
        return worker

    @rule(table=st.sampled_from(COEFFICIENT_TABLES))
    def set_coefficients(self, table: dict[str, str]) -> None:
        self._set_coefficients(table)

    @rule(worker=PaidOnce.workers, grade=st.sampled_from(GRADES))
    def assess(self, worker: str, grade: str) -> None:
        """A 2026 grade given or changed: the next replacement shares by it."""
        self._assess(worker, grade)

    def _graded(self, township: str) -> list[str]:
        return [w for w, grade in self.grades.items() if self.model[w].township == township]

    def _all_weights_zero(self, township: str) -> bool:
        return all(self.coefficients[self.grades[w]] == 0 for w in self._graded(township))

    def _allocated(self, township: str, response: httpx.Response) -> None:
        assert response.status_code == 201, response.text
        body = response.json()
        shares = {s["worker_id"]: Decimal(s["share"]) for s in body["shares"]}
        assert set(shares) == set(self._graded(township))
        assert sum(shares.values(), Decimal(0)) == Decimal(body["pool"])
        self.live[township] = Allocation(body["id"], Decimal(body["pool"]), shares)
        self.ever.setdefault(township, []).append(self.live[township])

    @rule(township=st.sampled_from(TOWNSHIPS), pool=POOLS)
    def allocate(self, township: str, pool: Decimal) -> None:
        body = {"township_code": township, "year": YEAR, "pool": str(pool)}
        response = self._post_json("/v1/bonus-allocations", body)
        if township in self.live:
            assert response.status_code == 409, response.text
            assert response.json()["allocation_id"] == self.live[township].id
        elif township not in self.closed:  # no closed 2026 cycle of the township reached payroll (C5 waits)
            assert response.status_code == 409, response.text
            assert response.json()["rule"] == "C5"
            assert "allocation_id" not in response.json()
        elif self._all_weights_zero(township):
            # nobody has a part (every coefficient × months is 0)
            assert response.status_code == 422, response.text
            assert response.json()["rule"] == "C5"
        else:
            self._allocated(township, response)

    @rule(pick=st.integers(0, 1), percent=st.integers(-99, 100), cents=st.integers(-99, 99))
    def replace(self, pick: int, percent: int, cents: int) -> None:
        """A live allocation replaced with a pool from 1 % to twice the last (less means shares paid are
        taken back), on today's grades and coefficients."""
        if not self.live:
            return
        township = sorted(self.live)[pick % len(self.live)]
        last = self.live[township]
        pool = max(
            Decimal("0.01"), (last.pool * (100 + percent) / 100).quantize(Decimal("0.01")) + Decimal(cents) / 100
        )
        response = self._post_json(
            f"/v1/bonus-allocations/{last.id}/replace", {"pool": str(pool), "reason": "性质测试 test"}
        )
        if self._all_weights_zero(township):
            assert response.status_code == 422, response.text  # nobody has a part: the live one stays
            return
        self._allocated(township, response)

    @rule(
        target=PaidOnce.runs,
        region=st.sampled_from(LEVELS),
        back=st.integers(0, 2),
        overlap=st.sampled_from(("refuse", "exclude")),
        approve=st.booleans(),
    )
    def another_run(self, region: str, back: int, overlap: str, approve: bool) -> str:
        """PaidOnce's ``run`` once more: runs twice as often as the other steps, the bonus is paid by them."""
        return str(self.run(region, back, overlap, approve))

    @rule(run=PaidOnce.runs, overlap=st.sampled_from(("refuse", "exclude")))
    def recalculate(self, run: str, overlap: str) -> None:
        """A run calculated again (refused unless draft, calculated or failed): its payouts are computed anew."""
        response = self.post(f"/v1/payroll-runs/{run}/calculate", overlap=overlap)
        assert response.status_code in (200, 409), response.text

    def _post_json(self, path: str, body: dict[str, Any]) -> httpx.Response:
        response: httpx.Response = self.call(self.client.post(path, headers=self.headers, json=body))
        assert response.status_code < 500, response.text
        return response

    # -- the model of a calculation --------------------------------------------------------------------
    def _statuses(self) -> dict[str, str]:
        return dict(self.sql("SELECT id::text, status FROM compensation.payroll_runs"))

    def _live_model(self) -> dict[str, dict[Key, Payout]]:
        """The model's payouts of the runs live now (a run that left the live states paid nothing)."""
        statuses = self._statuses()
        return {run: paid for run, paid in self.payouts.items() if statuses.get(run) in LIVE}

    def _calculated(self, run: dict[str, Any]) -> None:
        run_id, region, month = run["id"], run["region_code"], date.fromisoformat(run["month"] + "-01")
        self.payouts.pop(run_id, None)
        others = self._live_model()
        statuses = self._statuses()
        pending = {key for other, paid in others.items() if statuses[other] in UNAPPROVED for key in paid}
        held = {
            worker
            for (worker,) in self.sql(
                """SELECT ps.worker_id::text FROM compensation.payslips ps
                   JOIN compensation.payroll_runs r ON r.id = ps.run_id
                   WHERE ps.month = CAST(:month AS date) AND ps.run_id <> CAST(:run AS uuid)
                     AND r.status IN ('calculating', 'calculated', 'approved', 'paid')""",
                month=month,
                run=run_id,
            )
        }
        reached = [w for w, worker in self.model.items() if contains(region, worker.township) and w not in held]
        mine: dict[Key, Payout] = {}
        for township, allocation in self.live.items():
            if not contains(region, township):
                continue
            for worker in reached:
                if (worker, township) in pending:
                    continue  # another unapproved run holds this bonus: its due waits for that run
                paid = sum(
                    (p[(worker, township)].amount for p in others.values() if (worker, township) in p), Decimal(0)
                )
                due = allocation.shares.get(worker, Decimal(0)) - paid
                if due:
                    mine[(worker, township)] = Payout(due, allocation.id)
        self.payouts[run_id] = mine
        for payout in mine.values():
            event("C5 payout taken back" if payout.amount < 0 else "C5 payout paid")
        if others and mine:
            event("C5 payout beside other live runs' payouts")
        # Consequence 1, read from the database alone: for every worker the run reached (and whose bonus no other
        # unapproved run holds), live runs pay the share.
        live_paid = self._db_paid(LIVE)
        for township, allocation in self.live.items():
            if contains(region, township):
                for worker in reached:
                    if (worker, township) in pending:
                        continue
                    expected = allocation.shares.get(worker, Decimal(0))
                    assert live_paid.get((worker, township), Decimal(0)) == expected, (run, worker, township)

    def _db_paid(self, statuses: tuple[str, ...]) -> dict[Key, Decimal]:
        rows = self.sql(
            """SELECT bp.worker_id::text, bp.township_code, sum(bp.amount) FROM compensation.bonus_payouts bp
               JOIN compensation.payroll_runs r ON r.id = bp.run_id
               WHERE r.status = ANY(CAST(:statuses AS text[])) AND bp.year = :year GROUP BY 1, 2""",
            statuses=list(statuses),
            year=YEAR,
        )
        return {(worker, township): Decimal(amount) for worker, township, amount in rows}

    def _settled(self) -> None:
        """After the city-wide run of the new month, approved: every worker's bonus is settled exactly."""
        paid = self._db_paid(("approved", "paid"))
        if self.live:
            event("C5 settled with a live allocation")
        if any(self.model[w].left for w in {w for w, _ in paid}):
            event("C5 settled, a leaver paid")
        for township, allocation in self.live.items():
            for worker, share in allocation.shares.items():
                assert paid.get((worker, township), Decimal(0)) == share, (worker, township, paid, share)
        for (worker, township), amount in paid.items():
            live = self.live.get(township)
            if live is None or worker not in live.shares:
                assert amount == 0, (worker, township, amount)  # paid earlier, in no live allocation now
        for township, allocation in self.live.items():  # the payouts list (consequence 7)
            response: httpx.Response = self.call(
                self.client.get(f"/v1/bonus-allocations/{allocation.id}/payouts", headers=self.headers)
            )
            assert response.status_code == 200, response.text
            listed = sorted(
                (r["month"], r["worker_id"], r["run_id"], r["allocation_id"], Decimal(r["amount"]))
                for r in response.json()
            )
            assert [(r[0], r[1]) for r in listed] == [(r["month"], r["worker_id"]) for r in response.json()]
            expected = sorted(
                (month, worker, run, p.allocation_id, p.amount)
                for run, payouts in self._live_model().items()
                for (worker, t), p in payouts.items()
                if t == township
                for month in [self._month_of(run)]
            )
            assert listed == expected

    def _month_of(self, run: str) -> str:
        ((month,),) = self.sql("SELECT to_char(month, 'YYYY-MM') FROM compensation.payroll_runs WHERE id = :r", r=run)
        assert isinstance(month, str)
        return month

    # -- after every step ------------------------------------------------------------------------------
    @invariant()
    def payouts_are_the_models_and_only_of_live_runs(self) -> None:
        rows = self.sql(
            """SELECT bp.run_id::text, r.status, bp.worker_id::text, bp.township_code, bp.year, bp.amount,
                      bp.allocation_id::text
               FROM compensation.bonus_payouts bp JOIN compensation.payroll_runs r ON r.id = bp.run_id"""
        )
        assert [row for row in rows if row[1] not in LIVE] == []
        actual = {
            (run, worker, township, year, Decimal(amount), allocation)
            for run, _, worker, township, year, amount, allocation in rows
        }
        expected = {
            (run, worker, township, YEAR, p.amount, p.allocation_id)
            for run, payouts in self._live_model().items()
            for (worker, township), p in payouts.items()
        }
        assert actual == expected

    @invariant()
    def live_runs_pay_zero_or_a_share_once_allocated(self) -> None:
        for (worker, township), amount in self._db_paid(LIVE).items():
            allocated = {Decimal(0)} | {a.shares.get(worker, Decimal(0)) for a in self.ever.get(township, [])}
            assert amount in allocated, (worker, township, amount, allocated)

    @invariant()
    def each_payslips_bonus_is_its_runs_payouts(self) -> None:
        mismatched = self.sql(
            """SELECT ps.run_id, ps.worker_id, ps.bonus, coalesce(sum(bp.amount), 0) FROM compensation.payslips ps
               LEFT JOIN compensation.bonus_payouts bp ON bp.run_id = ps.run_id AND bp.worker_id = ps.worker_id
               GROUP BY ps.run_id, ps.worker_id, ps.bonus HAVING ps.bonus <> coalesce(sum(bp.amount), 0)"""
        )
        assert mismatched == []
        unslipped = self.sql(
            """SELECT bp.run_id, bp.worker_id FROM compensation.bonus_payouts bp
               WHERE NOT EXISTS (SELECT 1 FROM compensation.payslips ps
                                 WHERE ps.run_id = bp.run_id AND ps.worker_id = bp.worker_id)"""
        )
        assert unslipped == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_c5_a_workers_bonus_is_paid_once_and_exactly_the_live_share(database_url: str, signing_keys_dir: Path) -> None:
    BonusPaidOnce.database_url = database_url
    BonusPaidOnce.keys_dir = signing_keys_dir
    BonusPaidOnce.TestCase.settings = settings.get_profile(PROFILE)
    BonusPaidOnce.TestCase().runTest()
