"""Staffing compliance of a region on a date (S1–S8, P2–P3): set-based SQL, then the pure rules.

Two aggregate queries over the region's communities — workers employed on the date by their employment
periods, the leave date included (with residence, generalists, grid duties), and posts held on the date
(chiefs, approved extra chiefs, deputies) — and one over the counties' quotas, with ``quota_use.peak_headcounts``
counting who is employed on the date (S5). Each community's numbers then go through
``domain.staffing.community_findings`` with the staffing policy in force for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic_core import to_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.staffing import CommunityStaffing, Finding, community_findings, required_staff
from services.roster.domain.staffing_policy import StaffingPolicy
from services.roster.models import StaffingPolicyOverride
from services.roster.quota_use import peak_headcounts
from services.roster.regions import policy_overrides, resolve_policy
from shared.regions import RegionLevel, level, scope_prefix

COMMUNITIES_SQL = text(
    """
    SELECT r.code, r.name, r.kind, r.households, r.extra_staff,
           count(w.id) AS workers,
           count(w.id) FILTER (WHERE w.lives_in_community) AS residents,
           count(w.id) FILTER (WHERE w.generalist) AS generalists,
           count(w.id) FILTER (WHERE w.grid_duties) AS grid_duty
    FROM roster.regions r
    LEFT JOIN roster.workers w
           ON w.community_code = r.code
          AND EXISTS (SELECT 1 FROM roster.employments e  -- employed on the day: the leave date is worked
                       WHERE e.worker_id = w.id AND e.hire_date <= :day
                         AND (e.left_date IS NULL OR e.left_date >= :day))
    WHERE r.level = 'community' AND r.path LIKE :prefix
    GROUP BY r.code, r.name, r.kind, r.households, r.extra_staff
    ORDER BY r.code
    """
)
POSTS_SQL = text(
    """
    SELECT p.community_code,
           count(*) FILTER (WHERE p.post = 'chief') AS chiefs,
           count(*) FILTER (WHERE p.post = 'chief' AND p.approval IS NOT NULL) AS chiefs_approved,
           count(*) FILTER (WHERE p.post = 'deputy') AS deputies
    FROM roster.post_assignments p
    JOIN roster.regions r ON r.code = p.community_code
    WHERE r.path LIKE :prefix AND p.start_date <= :day AND (p.end_date IS NULL OR p.end_date > :day)
    GROUP BY p.community_code
    """
)
QUOTAS_SQL = text(
    """
    SELECT c.code AS county, q.headcount
    FROM roster.regions c
    LEFT JOIN roster.quotas q ON q.county_code = c.code AND q.year = :year
    WHERE c.level = 'county' AND c.path LIKE :county_prefix
    ORDER BY c.code
    """
)


@dataclass(frozen=True)
class CommunityResult:
    code: str
    name: str
    kind: str | None
    households: int
    required: int
    actual: int
    findings: list[Finding]


@dataclass(frozen=True)
class QuotaResult:
    county: str
    headcount: int | None
    used: int


@dataclass(frozen=True)
class StaffingCompliance:
    communities: list[CommunityResult]
    quotas: list[QuotaResult]
    quota_findings: list[Finding]

    @property
    def total(self) -> int:
        return sum(len(c.findings) for c in self.communities) + len(self.quota_findings)


def _policy_resolver(overrides: dict[str, StaffingPolicyOverride]) -> Callable[[str], StaffingPolicy]:
    """``resolve_policy`` for each community, resolved once per township: a community without parameters of
    its own has its township's policy (the presets go by city; the overrides apply top down, issue #16:
    resolving the ancestors of each of a province's 9,900 communities was a third of the report's Python)."""
    townships: dict[str, StaffingPolicy] = {}

    def policy_of(community: str) -> StaffingPolicy:
        if community in overrides or len(community) != 12:
            return resolve_policy(overrides, community)
        township = community[:9] + "000"
        policy = townships.get(township)
        if policy is None:
            policy = townships[township] = resolve_policy(overrides, township)
        return policy

    return policy_of


async def staffing_compliance(session: AsyncSession, region: str, day: date) -> StaffingCompliance:
    prefix = scope_prefix(region) + "%"
    rows = (await session.execute(COMMUNITIES_SQL, {"day": day, "prefix": prefix})).all()
    posts = {r.community_code: r for r in (await session.execute(POSTS_SQL, {"day": day, "prefix": prefix})).all()}
    policy_of = _policy_resolver(await policy_overrides(session, day.year))
    communities = []
    for row in rows:
        post = posts.get(row.code)
        staffing = CommunityStaffing(
            code=row.code,
            kind=row.kind or "urban",
            households=row.households,
            extra_staff=row.extra_staff,
            workers=row.workers,
            residents=row.residents,
            generalists=row.generalists,
            grid_duty=row.grid_duty,
            chiefs=post.chiefs if post else 0,
            chiefs_approved=post.chiefs_approved if post else 0,
            deputies=post.deputies if post else 0,
        )
        policy = policy_of(row.code)
        communities.append(
            CommunityResult(
                code=row.code,
                name=row.name,
                kind=row.kind,
                households=row.households,
                required=required_staff(staffing.kind, staffing.households, staffing.extra_staff, policy)[0],
                actual=row.workers,
                findings=community_findings(staffing, policy),
            )
        )
    below_county = level(region) in (RegionLevel.township, RegionLevel.community)
    county_prefix = region[:6] if below_county else scope_prefix(region)
    rows_q = (await session.execute(QUOTAS_SQL, {"year": day.year, "county_prefix": county_prefix + "%"})).all()
    employed = await peak_headcounts(session, county_prefix, day, day)  # S5: the count on the day
    quotas = [QuotaResult(county, headcount, employed.get((county, day.year), 0)) for county, headcount in rows_q]
    quota_findings: list[Finding] = []
    for q in quotas:
        if q.headcount is not None and q.used > q.headcount:
            quota_findings.append(
                Finding(
                    "S5",
                    q.county,
                    f"员额超用 {q.used}/{q.headcount}",
                    f"quota exceeded: {q.used} of {q.headcount}",
                    q.headcount,
                    q.used,
                )
            )
    return StaffingCompliance(communities, quotas, quota_findings)


def _finding(f: Finding, english: bool) -> dict[str, Any]:
    """``schemas.FindingOut``'s fields in its order."""
    message = f.message_en if english else f.message_zh
    return {"rule": f.rule, "region": f.community, "message": message, "expected": f.expected, "actual": f.actual}


async def staffing_report_json(session: AsyncSession, region: str, day: date, *, english: bool) -> bytes:
    """The staffing report as the JSON of ``schemas.StaffingReport`` (same fields, order and values: a test
    checks it against the model), written by pydantic-core's serialiser straight from the report's rows: no
    model per community and finding, validated and then dumped again (issue #16: that was most of the
    report's Python at a province's 9,900 communities)."""
    result = await staffing_compliance(session, region, day)
    over: dict[str, list[dict[str, Any]]] = {}
    for f in result.quota_findings:
        over.setdefault(f.community, []).append(_finding(f, english))
    quotas = [
        {"county_code": q.county, "headcount": q.headcount, "used": q.used, "findings": over.get(q.county, [])}
        for q in result.quotas
    ]
    return to_json(
        {
            "region": region,
            "date": day,
            "communities": [
                {
                    "code": c.code,
                    "name": c.name,
                    "kind": c.kind,
                    "households": c.households,
                    "required": c.required,
                    "actual": c.actual,
                    "findings": [_finding(f, english) for f in c.findings],
                }
                for c in result.communities
            ],
            "quotas": quotas,
            "findings": result.total,
        }
    )
