"""S5 headcount against the county quota, the one place that counts it.

The quota (员额) holds on every day: a worker counts in a county on day *d* when one of their employments
covers it (hired on or before *d*, and the leaving date, the last day worked, on or after *d*; a person
hired again has two employments and counts in both periods, once).
The use of a year's quota is the most workers employed on any one day of that year, so a hire back-dated
into an earlier year must fit that year's quota and every later year's it covers.

Counted by a sweep: +1 on each hire date, -1 on the day after each leaving date, summed in date order per county; a
count only rises on a hire date, so the peak of a period is found at its first day or a hire date in it.
Workers are counted in the county of their current community (transfers are not replayed; see H5).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.models import Quota
from shared.i18n import Message
from shared.policy_rules import decides
from shared.problems import FieldError, UnprocessableContent

PEAKS_SQL = text(
    """
    WITH counted AS (
        SELECT left(w.community_path, 6) AS county, e.hire_date, e.left_date + 1 AS off_date
        FROM roster.employments e
        JOIN roster.workers w ON w.id = e.worker_id
        WHERE w.community_path LIKE :prefix AND e.hire_date <= :last
    ), deltas AS (
        SELECT county, hire_date AS day, 1 AS delta FROM counted
        UNION ALL
        SELECT county, off_date, -1 FROM counted WHERE off_date IS NOT NULL
        UNION ALL
        SELECT c.county, make_date(y, 1, 1), 0
        FROM (SELECT DISTINCT county FROM counted) c, generate_series(:first_year + 1, :last_year) AS y
        UNION ALL
        SELECT DISTINCT county, CAST(:first AS date), 0 FROM counted
    ), running AS (
        SELECT county, day, sum(sum(delta)) OVER (PARTITION BY county ORDER BY day) AS employed
        FROM deltas
        GROUP BY county, day
    )
    SELECT county, CAST(extract(year FROM day) AS integer) AS year, CAST(max(employed) AS integer) AS peak
    FROM running
    WHERE day BETWEEN :first AND :last
    GROUP BY county, year
    """
)


async def peak_headcounts(
    session: AsyncSession, region_prefix: str, first: date, last: date
) -> dict[tuple[str, int], int]:
    """S5: per (county, year), the most workers employed on any one day of ``first``–``last`` (both included).

    ``region_prefix`` selects the workers (a county's 6 digits, or a city's or province's scope prefix).
    Counties and years with nobody employed are absent (read them as 0). ``first == last`` gives the
    count on that day.
    """
    rows = await session.execute(
        PEAKS_SQL,
        {
            "prefix": region_prefix + "%",
            "first": first,
            "last": last,
            "first_year": first.year,
            "last_year": last.year,
        },
    )
    return {(county, year): peak for county, year, peak in rows.all()}


async def quota_used(session: AsyncSession, county: str, year: int) -> int:
    """S5: the use of the county's quota for ``year``: its peak headcount on any day of that year."""
    peaks = await peak_headcounts(session, county, date(year, 1, 1), date(year, 12, 31))
    return peaks.get((county, year), 0)


@decides("S5")
async def check_quota(session: AsyncSession, county: str, start: date, field: str = "hire_date") -> None:
    """S5: one more worker in ``county`` from ``start`` on must fit the quota of every year it covers.

    The start year needs a quota (no hiring without one); each later year with a quota must keep room
    on its fullest day. The quota rows are locked in year order, which serialises hires and transfers
    into the county whose years overlap.
    """
    quotas = (
        await session.scalars(
            select(Quota)
            .where(Quota.county_code == county, Quota.year >= start.year)
            .order_by(Quota.year)
            .with_for_update()
        )
    ).all()
    if not quotas or quotas[0].year != start.year:
        raise UnprocessableContent(
            Message("{county} 未核定 {year} 年员额，不能招聘", "{county} has no {year} headcount quota: no hiring"),
            rule="S5",
            errors=[
                FieldError.of(
                    field,
                    Message(f"{county} 未核定 {start.year} 年员额", f"no {start.year} quota for {county}"),
                    rule="S5",
                )
            ],
            county=county,
            year=start.year,
        )
    peaks = await peak_headcounts(session, county, start, date(quotas[-1].year, 12, 31))
    for quota in quotas:
        used = peaks.get((county, quota.year), 0)
        if used + 1 > quota.headcount:
            raise UnprocessableContent(
                Message(
                    "超出 {county} {year} 年员额：已用 {used}/{headcount}",
                    "Beyond the {year} quota of {county}: {used} of {headcount} used",
                ),
                rule="S5",
                errors=[
                    FieldError.of(
                        field,
                        Message(
                            f"{quota.year} 年员额已满（{used}/{quota.headcount}）",
                            f"the {quota.year} quota is full ({used} of {quota.headcount})",
                        ),
                        rule="S5",
                    )
                ],
                county=county,
                year=quota.year,
                used=used,
                headcount=quota.headcount,
            )
