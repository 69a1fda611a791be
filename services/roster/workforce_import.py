"""Workforce import (issue #13): workers recorded as they are today, checked against the rules that govern
the present state, then loaded set-based with COPY.

Not a replay of recruitment: a worker hired in 2016 is recorded with that hire date, their employment and
its probation (H4, already over), their current post and grade and current contract. What is checked,
with the functions the API uses:

- each cell (``workforce_format.read_row``): GB 11643 ID numbers, working age on the hire date, C4 grade
  ranges, dates, code lists;
- one person one record: an ID number twice in the file, or already on record, is refused;
- the community exists, is a community, lies in the job's region and the caller may write there;
- H4: a given status agrees with the dates (the probation of the policy in force in the hire year);
- P2/P3: chiefs and deputies held at once in a community (``domain.posts.holders_violation`` over the
  recorded holders and the file's, with ``max_concurrent``);
- S5 now: the county's quota of this year holds today with the file's workers employed today added
  (``quota_use.peak_headcounts``; quota rows locked, as a hire locks them).

The rows and events written are the API's: ``workers``, ``employments``, ``post_assignments``,
``contracts`` and ``worker.hired`` (``lifecycle.worker_changed``), ``post.assigned``
(``shared.contracts.PostAssigned``) and ``contract.signed`` in the outbox, so the compensation and
evaluation projections see imported workers as they see hired ones.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain import lifecycle
from services.roster.domain.careers import contract_end, probation_end
from services.roster.domain.id_numbers import id_number_key
from services.roster.domain.posts import Period, holders_violation, max_concurrent
from services.roster.domain.staffing_policy import StaffingPolicy
from services.roster.lifecycle import worker_changed
from services.roster.models import PostAssignment, Quota, Region, StaffingPolicyOverride, Worker
from services.roster.quota_use import peak_headcounts
from services.roster.regions import policy_overrides, resolve_policy
from services.roster.workforce_format import WorkforceRow
from shared.auth import Principal
from shared.contracts import ContractSigned, EventData, PostAssigned
from shared.db import among
from shared.regions import RegionLevel, contains, normalise
from shared.request_context import current_request_id
from shared.scoping import WRITE_ROLES, sees_region
from shared.spreadsheets import CellProblem, Checked


class Policies:
    """The staffing policy in force per (region, year), overrides read once per year."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._years: dict[int, dict[str, StaffingPolicyOverride]] = {}
        self._resolved: dict[tuple[str, int], StaffingPolicy] = {}

    async def of(self, region: str, year: int) -> StaffingPolicy:
        if (region, year) not in self._resolved:
            if year not in self._years:
                self._years[year] = await policy_overrides(self._session, year)
            self._resolved[region, year] = resolve_policy(self._years[year], region)
        return self._resolved[region, year]


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """The keyed ID-number hashes among ``keys`` that the roster already holds (one query, any count)."""
    if not keys:
        return set()
    return set(await session.scalars(select(Worker.id_number_key).where(among(Worker.id_number_key, keys))))


async def check_rows(
    session: AsyncSession,
    principal: Principal,
    region: str,
    rows: Sequence[WorkforceRow],
    secret: bytes,
    today: date,
) -> Checked:
    """``Checked.good``: (row, keyed hash of the ID number, probation end) of each row that passed."""
    """The database checks of rows whose cells are good. Locks the quota rows of the counties concerned and
    the communities where chiefs or deputies are imported (as the API's hire and post assignment do)."""
    checked = Checked()
    keyed = [(row, id_number_key(row.resident.number, secret)) for row in rows]
    seen: dict[str, int] = {}
    existing = await existing_keys(session, [k for _, k in keyed])
    codes = sorted({row.community_code for row in rows})
    levels = dict((await session.execute(select(Region.code, Region.level).where(among(Region.code, codes)))).all())
    writable: dict[str, bool] = {}  # by community code: on record, in the job's region, the caller may write
    candidates: list[tuple[WorkforceRow, str]] = []
    for row, key in keyed:
        value = row.resident.number
        if key in seen:
            checked.refuse(
                row.line,
                CellProblem("id_number", value, f"与第 {seen[key]} 行是同一人", f"the same person as row {seen[key]}"),
            )
            continue
        seen[key] = row.line
        if key in existing:
            checked.refuse(
                row.line,
                CellProblem(
                    "id_number",
                    value,
                    "此人已有社工档案（全省唯一）",
                    "this person already has a worker record (one per province)",
                ),
            )
            continue
        code = row.community_code
        if code not in writable:
            writable[code] = code in levels and contains(region, code) and sees_region(principal, code, WRITE_ROLES)
        if not writable[code]:
            checked.refuse(
                row.line, CellProblem("community_code", code, f"区划不存在：{code}", f"no such community: {code}")
            )
            continue
        if levels[code] != RegionLevel.community:
            checked.refuse(
                row.line, CellProblem("community_code", code, "应为社区（村）代码", "must be a community", "S1")
            )
            continue
        candidates.append((row, key))
    policies = Policies(session)
    dates = _Dates()
    dated: list[tuple[WorkforceRow, str, date]] = []
    for row, key in candidates:
        policy = await policies.of(row.community_code, row.hire_date.year)
        ends = dates.end(probation_end, row.hire_date, policy)  # H4, as a hire computes it
        if row.status is not None:
            derived = lifecycle.status_on([lifecycle.Employment(row.hire_date, row.left_date, ends)], [], today)
            if derived != row.status:
                checked.refuse(
                    row.line,
                    CellProblem(
                        "status",
                        row.status,
                        f"与日期不符：{today} 应为 {derived}（试用期至 {ends}）",
                        f"does not agree with the dates: {derived} on {today} (probation to {ends})",
                        "H4",
                    ),
                )
                continue
        dated.append((row, key, ends))
    dated = await _holders(session, policies, dated, checked)
    dated = await _quota_now(session, dated, checked, today)
    checked.good = dated
    return checked


def _post_period(row: WorkforceRow) -> Period:
    assert row.post_start_date is not None
    return (row.post_start_date, lifecycle.end_after_leaving(row.left_date) if row.left_date else None)


async def _holders(
    session: AsyncSession, policies: Policies, rows: list[tuple[WorkforceRow, str, date]], checked: Checked
) -> list[tuple[WorkforceRow, str, date]]:
    """P2/P3 over the recorded holders and the file's, in file order (a later row is the one refused)."""
    led = sorted({row.community_code for row, _, _ in rows if row.post in ("chief", "deputy")})
    if not led:
        return rows
    await session.execute(select(Region.code).where(among(Region.code, led)).order_by(Region.code).with_for_update())
    held: dict[tuple[str, str], list[Period]] = {}
    for code, post, start, end in await session.execute(
        select(
            PostAssignment.community_code, PostAssignment.post, PostAssignment.start_date, PostAssignment.end_date
        ).where(among(PostAssignment.community_code, led), PostAssignment.post.in_(["chief", "deputy"]))
    ):
        held.setdefault((code, post), []).append((start, end))
    kept = []
    for row, key, ends in rows:
        if row.post in ("chief", "deputy"):
            assert row.post_start_date is not None
            period = _post_period(row)
            others = held.setdefault((row.community_code, row.post), [])
            policy = await policies.of(row.community_code, row.post_start_date.year)
            violation = holders_violation(
                row.post,
                max_concurrent(others, period),
                bool(row.approval),
                policy.max_chiefs_with_approval,
                policy.max_deputies,
            )
            if violation is not None:
                value = (row.approval or "") if violation.field == "approval" else row.post
                checked.refuse(
                    row.line, CellProblem(violation.field, value, violation.zh, violation.en, violation.rule)
                )
                continue
            others.append(period)
        kept.append((row, key, ends))
    return kept


async def _quota_now(
    session: AsyncSession, rows: list[tuple[WorkforceRow, str, date]], checked: Checked, today: date
) -> list[tuple[WorkforceRow, str, date]]:
    """S5 in force now: the county's quota of this year, with the recorded and the file's workers employed today."""
    employed_today = [
        r for r in rows if r[0].hire_date <= today and (r[0].left_date is None or r[0].left_date >= today)
    ]
    counties = sorted({row.community_code[:6] for row, _, _ in employed_today})
    if not counties:
        return rows
    quotas = dict(
        (
            await session.execute(
                select(Quota.county_code, Quota.headcount)
                .where(Quota.county_code.in_(counties), Quota.year == today.year)
                .order_by(Quota.county_code)
                .with_for_update()
            )
        ).all()
    )
    used = {
        county: (await peak_headcounts(session, county, today, today)).get((county, today.year), 0)
        for county in counties
    }
    refused: set[int] = set()
    for row, _, _ in employed_today:
        county = row.community_code[:6]
        headcount = quotas.get(county)
        if headcount is None:
            problem = CellProblem(
                "hire_date",
                row.hire_date.isoformat(),
                f"{county} 未核定 {today.year} 年员额",
                f"no {today.year} quota for {county}",
                "S5",
            )
        elif used[county] + 1 > headcount:
            problem = CellProblem(
                "hire_date",
                row.hire_date.isoformat(),
                f"{today.year} 年员额已满（{used[county]}/{headcount}）",
                f"the {today.year} quota is full ({used[county]} of {headcount})",
                "S5",
            )
        else:
            used[county] += 1
            continue
        checked.refuse(row.line, problem)
        refused.add(row.line)
    return [r for r in rows if r[0].line not in refused]


WORKER_COLUMNS = (
    "id",
    "id_number_key",
    "id_number",
    "name",
    "sex",
    "birth_date",
    "phone",
    "education",
    "political_status",
    "community_code",
    "community_path",
    "lives_in_community",
    "generalist",
    "grid_duties",
    "certificate_level",
    "certificate_date",
    "status",
    "hire_date",
    "left_date",
    "version",
)


LOAD_BATCH = 5_000
"""Rows written per round of COPYs: the tuples and event JSON of one batch are held at a time."""


class _Dates:
    """H3 contract ends and H4 probation ends by (rule, policy, start): a file's dates repeat (a few
    thousand distinct days), and ``relativedelta`` is the load's costliest date arithmetic."""

    def __init__(self) -> None:
        self._ends: dict[tuple[Callable[[date, StaffingPolicy], date], int, date], date] = {}

    def end(self, rule: Callable[[date, StaffingPolicy], date], start: date, policy: StaffingPolicy) -> date:
        """``rule(start, policy)``, computed once per policy and start."""
        key = (rule, id(policy), start)
        end = self._ends.get(key)
        if end is None:
            end = self._ends[key] = rule(start, policy)
        return end


class HiredWorker(NamedTuple):
    """An imported worker as its ``worker.hired`` event describes it (``lifecycle.worker_changed``)."""

    id: uuid.UUID
    name: str
    community_code: str
    status: str
    hire_date: date
    left_date: date | None
    education: str | None
    certificate_level: str | None
    certificate_date: date | None
    generalist: bool
    version: int = 1


def _new_ids(count: int) -> list[uuid.UUID]:
    """``count`` random (version 4) UUIDs from one read of the system's random source."""
    random = os.urandom(16 * count)
    return [uuid.UUID(bytes=random[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


async def load(session: AsyncSession, good: Sequence[tuple[WorkforceRow, str, date]], today: date) -> int:
    """Write the checked rows with COPY (workers, employments, posts, contracts, outbox) in the session's
    transaction, ``LOAD_BATCH`` rows at a time; the rows and events are those the API's hire, post
    assignment and contract would write. Within a batch the ``worker.hired`` events come first, then the
    batch's ``post.assigned`` and ``contract.signed``: each worker's hire precedes its post and contract."""
    if not good:
        return 0
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    copy = raw.driver_connection
    assert copy is not None
    policies = Policies(session)
    dates = _Dates()
    paths: dict[str, str] = {}
    for start in range(0, len(good), LOAD_BATCH):
        batch = good[start : start + LOAD_BATCH]
        await _copy_batch(copy, await _batch_records(batch, today, policies, dates, paths))
    return len(good)


async def _batch_records(
    batch: Sequence[tuple[WorkforceRow, str, date]],
    today: date,
    policies: Policies,
    dates: _Dates,
    paths: dict[str, str],
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of one batch, table by table (``events``: the hires, then the posts and contracts)."""
    request_id = current_request_id()
    ids = iter(_new_ids(len(batch) * 4))
    workers: list[tuple[Any, ...]] = []
    employments: list[tuple[Any, ...]] = []
    posts: list[tuple[Any, ...]] = []
    contracts: list[tuple[Any, ...]] = []
    hired: list[tuple[Any, ...]] = []
    later: list[tuple[Any, ...]] = []
    for row, key, ends in batch:
        worker_id = next(ids)
        resident = row.resident
        community = row.community_code
        path = paths.get(community)
        if path is None:
            path = paths[community] = normalise(community)
        employment = lifecycle.Employment(row.hire_date, row.left_date, ends)
        status = lifecycle.status_on([employment], [], today)
        workers.append(
            (
                worker_id,
                key,
                resident.number,
                row.name,
                resident.sex,
                resident.birth_date,
                row.phone,
                row.education,
                row.political_status,
                community,
                path,
                row.lives_in_community,
                row.generalist,
                row.grid_duties,
                row.certificate_level,
                row.certificate_date,
                status,
                row.hire_date,
                row.left_date,
                1,
            )
        )
        employments.append((next(ids), worker_id, row.hire_date, row.left_date, ends))
        subject = f"worker/{worker_id}"
        hire = HiredWorker(
            worker_id,
            row.name,
            community,
            status,
            row.hire_date,
            row.left_date,
            row.education,
            row.certificate_level,
            row.certificate_date,
            row.generalist,
        )
        event: EventData = worker_changed(hire, [employment])
        hired.append(("worker.hired", subject, event.model_dump_json(), request_id, community))
        cut = lifecycle.end_after_leaving(row.left_date) if row.left_date else None
        if row.post is not None and row.grade is not None and row.post_start_date is not None:
            duties = list(row.duties)
            posts.append(
                (
                    next(ids),
                    worker_id,
                    community,
                    row.post,
                    row.grade,
                    row.post_start_date,
                    cut,
                    row.approval,
                    json.dumps(duties),
                )
            )
            event = PostAssigned(
                worker_id=worker_id,
                community_code=community,
                post=row.post,
                grade=row.grade,
                start_date=row.post_start_date,
                duties=duties,
            )
            later.append(("post.assigned", subject, event.model_dump_json(), request_id, community))
        if row.contract_start is not None:
            policy = await policies.of(community, row.contract_start.year)
            end = dates.end(contract_end, row.contract_start, policy)  # H3
            if cut is not None and end > cut:
                end = cut
            first = row.contract_start <= ends  # H4: the employment's first contract carries its probation
            contracts.append(
                (next(ids), worker_id, community[:9] + "000", row.contract_start, end, ends if first else None)
            )
            event = ContractSigned(worker_id=worker_id, start_date=row.contract_start, end_date=end, renewal=False)
            later.append(("contract.signed", subject, event.model_dump_json(), request_id, None))
    return {
        "workers": workers,
        "employments": employments,
        "post_assignments": posts,
        "contracts": contracts,
        "events": hired + later,
    }


COPY_COLUMNS: dict[str, tuple[str, ...]] = {
    "workers": WORKER_COLUMNS,
    "employments": ("id", "worker_id", "hire_date", "left_date", "probation_end"),
    "post_assignments": (
        "id",
        "worker_id",
        "community_code",
        "post",
        "grade",
        "start_date",
        "end_date",
        "approval",
        "duties",
    ),
    "contracts": ("id", "worker_id", "township_code", "start_date", "end_date", "probation_end"),
    "events": ("type", "subject", "data", "request_id", "region"),  # region: what record_event's event_region names
}


async def _copy_batch(copy: Any, records: dict[str, list[tuple[Any, ...]]]) -> None:
    for table, columns in COPY_COLUMNS.items():
        if records[table]:
            await copy.copy_records_to_table(table, schema_name="roster", columns=columns, records=records[table])
