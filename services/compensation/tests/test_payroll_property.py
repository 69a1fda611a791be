"""Paid once, and exactly right, as a property (hypothesis, stateful): random sequences of hires,
leavings, back-dated grade and certificate changes, and payroll runs at township, county and city level
(refused or leaving out what another run holds, approved or not, cancelled, paid, reversed after approval
and the month run again), driven through the
compensation service's HTTP API and feed handlers on the real PostgreSQL.

After every step: no worker-month is on two payslips of live runs, and no approved money is attached to a
worker-month that no approved payslip settled. At every ``settle`` step (runs left unapproved cancelled,
then a city-wide run of a new month approved, as a payroll officer closes a month): for every worker-month
settled so far, what approved runs paid for it (its payslip's base and allowance plus every approved
adjustment for it) equals the policy amount recomputed from scratch by the plain-Python model below (C4
scale × C5 base share 70 % ÷ 12, prorated by days C6 with the Wenzhou joining month in full, C8
allowance), to the cent.

``make test`` runs a bounded number of examples; ``make test-property`` runs the long profile.
"""

from __future__ import annotations

import asyncio
import calendar
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.compensation.app import create_app
from services.compensation.projections import apply_post, apply_worker
from services.compensation.settings import Settings
from services.gateway.keys import SigningKeys
from services.gateway.tokens import issue_access_token
from shared.auth import Grant, Principal, Role, TokenVerifier

settings.register_profile(
    "payroll-ci", max_examples=12, stateful_step_count=14, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "payroll-long", max_examples=300, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = os.environ.get("SHEGONG_PAYROLL_PROPERTY_PROFILE", "payroll-ci")

COUNTY, CITY = "330302", "330300"
TOWNSHIPS = ("330302001000", "330302002000")
LEVELS = (*TOWNSHIPS, COUNTY, CITY)
ALLOWANCE = {"senior": Fraction(600), "social_worker": Fraction(400), "assistant": Fraction(200)}  # C8 Wenzhou
LAST_MONTH = 9  # months 2026-01 … 2026-09: the 2026 scale


def annual(grade: int) -> Fraction:
    return Fraction(78000 + 3000 * grade)  # the test scale of staff (services/compensation/tests/conftest.py)


def cents(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def month_start(index: int) -> date:
    return date(2026, index, 1)


def month_end(index: int) -> date:
    return date(2026, index, calendar.monthrange(2026, index)[1])


@dataclass
class Worker:
    id: str
    township: str
    employments: list[list[date | None]]  # [hire, left or None], oldest first
    periods: dict[date, int] = field(default_factory=dict)  # start → grade, staff post
    certificate: tuple[str, date] | None = None
    version: int = 1

    @property
    def hire(self) -> date:
        first = self.employments[-1][0]
        assert first is not None
        return first

    @property
    def left(self) -> date | None:
        return self.employments[-1][1]

    def owed(self, month: int) -> Decimal:
        """C4–C6, C8 from scratch: what the policy pays this worker for a month (base and allowance)."""
        m_start, m_end = month_start(month), month_end(month)
        days = (m_end - m_start).days + 1
        starts = sorted(self.periods)
        share, worked = Fraction(0), 0
        for index, (hire, left) in enumerate(self.employments):
            assert hire is not None
            if hire > m_end or (left is not None and left < m_start):
                continue
            # C6: the joining month in full, unless an earlier employment was worked in that month
            earlier = any(gone is not None and gone >= m_start for _, gone in self.employments[:index])
            full = not (hire >= m_start and earlier)
            for i, start in enumerate(starts):
                end = starts[i + 1] if i + 1 < len(starts) else None  # exclusive
                holds_on_hire = start <= hire and (end is None or end > hire)
                s = m_start if full and holds_on_hire else max(start, hire)
                s = max(s, m_start)
                e = min(end - timedelta(days=1) if end else m_end, m_end, left or m_end)
                if e >= s:
                    n = (e - s).days + 1
                    share += annual(self.periods[start]) / 12 * Fraction(n, days)
                    worked += n
        base = cents(share * Fraction(7, 10))  # C5 base share 70 %
        allowance = Decimal("0.00")
        if worked and self.certificate and self.certificate[1] <= m_end:
            allowance = cents(ALLOWANCE[self.certificate[0]] * min(Fraction(worked, days), Fraction(1)))
        return base + allowance

    def event(self) -> dict[str, Any]:
        return {
            "type": "worker.updated",
            "data": {
                "worker_id": self.id,
                "name": "社工",
                "community_code": self.township[:9] + "001",
                "status": "left" if self.left else "active",
                "hire_date": self.hire.isoformat(),
                "left_date": self.left.isoformat() if self.left else None,
                "education": "bachelor",
                "certificate_level": self.certificate[0] if self.certificate else None,
                "certificate_date": self.certificate[1].isoformat() if self.certificate else None,
                "version": self.version,
                "employments": [
                    {"hire_date": h.isoformat() if h else None, "left_date": gone.isoformat() if gone else None}
                    for h, gone in self.employments
                ],
            },
        }


class PaidOnce(RuleBasedStateMachine):
    """One example: an empty compensation database (a transaction rolled back at the end)."""

    database_url: str = ""
    keys_dir: Path = Path()

    workers = Bundle("workers")
    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.model: dict[str, Worker] = {}
        self.current = 1
        self.settled: set[tuple[str, int]] = set()
        self.loop.run_until_complete(self._start())

    # -- the service, in this example's own event loop ------------------------------------------------
    async def _start(self) -> None:
        config = Settings(database_url=self.database_url, feeds_enabled=False)
        self.app = create_app(config)
        keys = SigningKeys(self.keys_dir)

        async def jwks() -> dict[str, Any]:
            return keys.jwks()

        self.app.state.token_verifier = TokenVerifier(jwks)
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()
        self.conn = await self.app.state.engine.connect()
        self.outer = await self.conn.begin()
        self.app.state.sessionmaker = async_sessionmaker(
            bind=self.conn, class_=AsyncSession, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        principal = Principal("user:property", "测试", (Grant(Role.city_admin, CITY),))
        self.headers = {"Authorization": f"Bearer {issue_access_token(keys, principal, 3600)}"}
        approver = Principal("user:approver", "审批", (Grant(Role.city_admin, CITY),))
        self.approver = {"Authorization": f"Bearer {issue_access_token(keys, approver, 3600)}"}
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://compensation")
        cells = [{"post": "staff", "grade": g, "annual_amount": str(annual(g))} for g in range(1, 13)]
        response = await self.client.put(f"/v1/pay-scales/{COUNTY}/2026", headers=self.headers, json={"cells": cells})
        assert response.status_code == 200, response.text

    async def _stop(self) -> None:
        await self.client.aclose()
        await self.outer.rollback()
        await self.conn.close()
        await self.lifespan.__aexit__(None, None, None)

    def teardown(self) -> None:
        try:
            self.loop.run_until_complete(self._stop())
        finally:
            self.loop.close()

    def call(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _feed(self, *events: dict[str, Any]) -> None:
        async with self.app.state.sessionmaker() as session:
            for event in events:
                handler = apply_post if event["type"] == "post.assigned" else apply_worker
                await handler(session, event)
            await session.commit()

    def feed(self, *events: dict[str, Any]) -> None:
        self.call(self._feed(*events))

    def post(self, path: str, **params: str) -> httpx.Response:
        # 不相容职务分离: another person approves what this one calculated
        headers = self.approver if path.endswith("/approve") else self.headers
        response: httpx.Response = self.call(self.client.post(path, headers=headers, params=params))
        assert response.status_code < 500, response.text
        return response

    def sql(self, statement: str, **params: Any) -> list[Any]:
        async def run() -> list[Any]:
            async with self.app.state.sessionmaker() as session:
                return list((await session.execute(text(statement), params)).all())

        rows: list[Any] = self.call(run())
        return rows

    # -- the world ------------------------------------------------------------------------------------
    def day_in(self, earliest: date, offset: int) -> date:
        """A day from ``earliest`` to the end of the current month."""
        last = month_end(self.current)
        return min(earliest + timedelta(days=offset), last)

    @initialize(target=workers)
    def first_worker(self) -> str:
        return self._hire(TOWNSHIPS[0], 4, 3)

    def _hire(self, township: str, day: int, grade: int) -> str:
        hire = self.day_in(month_start(self.current), day)
        worker = Worker(str(uuid.uuid4()), township, [[hire, None]], periods={hire: grade})
        self.model[worker.id] = worker
        event = worker.event() | {"type": "worker.hired"}
        post = {"worker_id": worker.id, "post": "staff", "grade": grade, "start_date": hire.isoformat()}
        self.feed(event, {"type": "post.assigned", "data": post})
        return worker.id

    @rule(target=workers, township=st.sampled_from(TOWNSHIPS), day=st.integers(0, 30), grade=st.integers(1, 12))
    def hire(self, township: str, day: int, grade: int) -> str:
        return self._hire(township, day, grade)

    @rule(worker=workers, offset=st.integers(0, 200))
    def leave(self, worker: str, offset: int) -> None:
        """A leaving date anywhere from the hire date to the end of the current month: back-dated into
        months already paid, too (the overpayment comes back as a negative adjustment)."""
        w = self.model[worker]
        if w.left is not None:
            return
        w.employments[-1][1] = self.day_in(w.hire, offset)
        w.version += 1
        self.feed(w.event() | {"type": "worker.left"})

    @rule(worker=workers, offset=st.integers(1, 60), grade=st.integers(1, 12))
    def rehire(self, worker: str, offset: int, grade: int) -> None:
        """The same person hired again after leaving (one worker id): a new employment and post, from a
        day after the leaving date up to the end of the current month (sometimes the same month)."""
        w = self.model[worker]
        if w.left is None or w.left >= month_end(self.current):
            return
        hire = self.day_in(w.left + timedelta(days=1), offset - 1)
        w.employments.append([hire, None])
        w.periods[hire] = grade
        w.version += 1
        post = {"worker_id": w.id, "post": "staff", "grade": grade, "start_date": hire.isoformat()}
        self.feed(w.event() | {"type": "worker.hired"}, {"type": "post.assigned", "data": post})

    @rule(worker=workers, grade=st.integers(1, 12), offset=st.integers(0, 200))
    def regrade(self, worker: str, grade: int, offset: int) -> None:
        """A grade from a day between hire and the end of the current month: often back-dated."""
        w = self.model[worker]
        if w.left is not None:
            return  # the roster assigns posts to workers in employment
        start = self.day_in(w.hire, offset)
        w.periods[start] = grade
        post = {"worker_id": w.id, "post": "staff", "grade": grade, "start_date": start.isoformat()}
        self.feed({"type": "post.assigned", "data": post})

    @rule(worker=workers, level=st.sampled_from(sorted(ALLOWANCE)), offset=st.integers(-120, 200))
    def certify(self, worker: str, level: str, offset: int) -> None:
        w = self.model[worker]
        w.certificate = (level, self.day_in(w.hire, offset) if offset >= 0 else w.hire + timedelta(days=offset))
        w.version += 1
        self.feed(w.event())

    @rule(
        target=runs,
        region=st.sampled_from(LEVELS),
        back=st.integers(0, 2),
        overlap=st.sampled_from(("refuse", "exclude")),
        approve=st.booleans(),
    )
    def run(self, region: str, back: int, overlap: str, approve: bool) -> str:
        month = max(1, self.current - back)
        created = self.call(
            self.client.post(
                "/v1/payroll-runs", headers=self.headers, json={"region_code": region, "month": f"2026-{month:02d}"}
            )
        )
        assert created.status_code == 201, created.text
        run_id: str = created.json()["id"]
        calculated = self.post(f"/v1/payroll-runs/{run_id}/calculate", overlap=overlap)
        assert calculated.status_code in (200, 409), calculated.text
        if calculated.status_code == 409:
            assert overlap == "refuse" or calculated.json().get("covering_runs"), calculated.text
        elif approve:
            assert self.post(f"/v1/payroll-runs/{run_id}/approve").status_code == 200
            self._note_settled(run_id)
        return run_id

    @rule(run=runs)
    def cancel(self, run: str) -> None:
        response = self.post(f"/v1/payroll-runs/{run}/cancel")
        assert response.status_code in (200, 409)

    @rule(run=runs)
    def pay(self, run: str) -> None:
        response = self.post(f"/v1/payroll-runs/{run}/pay")
        assert response.status_code in (200, 409)

    @rule(run=runs, again=st.booleans(), overlap=st.sampled_from(("refuse", "exclude")))
    def reverse(self, run: str, again: bool, overlap: str) -> None:
        self._reverse(run, again, overlap)

    @rule(pick=st.integers(0, 20), again=st.booleans(), overlap=st.sampled_from(("refuse", "exclude")))
    def reverse_an_approved_run(self, pick: int, again: bool, overlap: str) -> None:
        """Most runs of the bundle are not approved: this one picks among those that are."""
        approved = self.sql("SELECT id::text FROM compensation.payroll_runs WHERE status = 'approved' ORDER BY id")
        if approved:
            self._reverse(approved[pick % len(approved)][0], again, overlap)

    def _reverse(self, run: str, again: bool, overlap: str) -> None:
        """Reverse a run (only an approved one not paid, and not while another run holds a correction
        computed against it); its worker-months are no longer settled, and may be paid by a new run of
        the same region and month (``again``), once."""
        ((status, region, month),) = self.sql(
            "SELECT status, region_code, extract(month FROM month)::int FROM compensation.payroll_runs WHERE id = :r",
            r=run,
        )
        held = self.sql(
            "SELECT worker_id::text, extract(month FROM month)::int FROM compensation.payslips WHERE run_id = :r",
            r=run,
        )
        response: httpx.Response = self.call(
            self.client.post(f"/v1/payroll-runs/{run}/reverse", headers=self.headers, json={"reason": "性质测试 test"})
        )
        if status != "approved":
            assert response.status_code == 409, response.text  # paid runs above all: never reversed
            return
        if response.status_code == 409:
            assert response.json()["dependent_runs"], response.text
            return
        assert response.status_code == 200, response.text
        assert self.sql("SELECT count(*) FROM compensation.payslips WHERE run_id = :r", r=run) == [(0,)]
        self.settled -= {(worker_id, int(m)) for worker_id, m in held}
        if again:
            created = self.call(
                self.client.post(
                    "/v1/payroll-runs", headers=self.headers, json={"region_code": region, "month": f"2026-{month:02d}"}
                )
            )
            assert created.status_code == 201, created.text
            run_id = created.json()["id"]
            calculated = self.post(f"/v1/payroll-runs/{run_id}/calculate", overlap=overlap)
            assert calculated.status_code in (200, 409), calculated.text
            if calculated.status_code == 200:
                assert self.post(f"/v1/payroll-runs/{run_id}/approve").status_code == 200
                self._note_settled(run_id)

    @rule(run=runs)
    def approve_later(self, run: str) -> None:
        response = self.post(f"/v1/payroll-runs/{run}/approve")
        assert response.status_code in (200, 409)
        if response.status_code == 200:
            self._note_settled(run)

    def _note_settled(self, run_id: str) -> None:
        for worker_id, month in self.sql(
            "SELECT worker_id::text, extract(month FROM month)::int FROM compensation.payslips WHERE run_id = :r",
            r=run_id,
        ):
            self.settled.add((worker_id, month))

    @precondition(lambda self: self.current < LAST_MONTH)
    @rule()
    def settle(self) -> None:
        """Close the books: runs left unapproved are cancelled (a correction they hold is computed again),
        a city-wide run of the next month is calculated and approved; then every settled worker-month has
        been paid exactly what the policy says."""
        for (run_id,) in self.sql(
            "SELECT id::text FROM compensation.payroll_runs WHERE status IN ('draft', 'calculated', 'failed')"
        ):
            assert self.post(f"/v1/payroll-runs/{run_id}/cancel").status_code == 200
        self.current += 1
        created = self.call(
            self.client.post(
                "/v1/payroll-runs",
                headers=self.headers,
                json={"region_code": CITY, "month": f"2026-{self.current:02d}"},
            )
        )
        run_id = created.json()["id"]
        calculated = self.post(f"/v1/payroll-runs/{run_id}/calculate")
        assert calculated.status_code == 200, calculated.text  # the first run of a new month holds everyone
        assert self.post(f"/v1/payroll-runs/{run_id}/approve").status_code == 200
        self._note_settled(run_id)
        paid = self._paid()
        for worker_id, month in sorted(self.settled):
            if month >= self.current:
                continue
            expected = self.model[worker_id].owed(month)
            assert paid.get((worker_id, month), Decimal("0.00")) == expected, (worker_id, month, paid, expected)

    @precondition(lambda self: self.current < LAST_MONTH)
    @rule()
    def next_month(self) -> None:
        self.current += 1

    def _paid(self) -> dict[tuple[str, int], Decimal]:
        """What approved and paid runs paid for each worker-month: its payslip plus its adjustments."""
        rows = self.sql(
            """
SELECT worker_id::text, extract(month FROM month)::int, sum(amount) FROM (
    SELECT ps.worker_id, ps.month, ps.base + ps.certificate_allowance AS amount
    FROM compensation.payslips ps JOIN compensation.payroll_runs r ON r.id = ps.run_id
    WHERE r.status IN ('approved', 'paid')
    UNION ALL
    SELECT a.worker_id, a.month, a.amount
    FROM compensation.payroll_adjustments a JOIN compensation.payroll_runs r ON r.id = a.run_id
    WHERE r.status IN ('approved', 'paid')
) paid GROUP BY 1, 2"""
        )
        return {(w, int(m)): Decimal(amount) for w, m, amount in rows}

    @invariant()
    def each_worker_month_is_on_one_live_payslip(self) -> None:
        doubles = self.sql(
            """SELECT ps.worker_id, ps.month, count(*) FROM compensation.payslips ps
               JOIN compensation.payroll_runs r ON r.id = ps.run_id
               WHERE r.status IN ('calculating', 'calculated', 'approved', 'paid')
               GROUP BY 1, 2 HAVING count(*) > 1"""
        )
        assert doubles == []
        orphans = self.sql(
            """SELECT count(*) FROM compensation.payslips ps
               LEFT JOIN compensation.payroll_runs r ON r.id = ps.run_id
               WHERE r.id IS NULL OR r.status IN ('failed', 'cancelled', 'draft', 'reversed')"""
        )
        assert orphans[0][0] == 0
        stale = self.sql(
            """SELECT count(*) FROM compensation.payroll_adjustments a
               JOIN compensation.payroll_runs r ON r.id = a.run_id
               WHERE r.status IN ('failed', 'cancelled', 'draft', 'reversed')"""
        )
        assert stale[0][0] == 0

    @invariant()
    def approved_money_only_for_settled_months(self) -> None:
        for worker_id, month in self._paid():
            assert (worker_id, month) in self.settled, (worker_id, month)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_worker_month_is_paid_once_and_exactly(database_url: str, signing_keys_dir: Path) -> None:
    PaidOnce.database_url = database_url
    PaidOnce.keys_dir = signing_keys_dir
    PaidOnce.TestCase.settings = settings.get_profile(PROFILE)
    PaidOnce.TestCase().runTest()
