"""The pay target of a region and year (C2 Wenzhou, C3 Taizhou), from last year's statistics."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.policy import PayPolicy
from services.compensation.domain.targets import TargetError, taizhou_floors, wenzhou_target
from services.compensation.models import ReferenceStatistic
from services.compensation.policies import ancestors_and_self, policy_for
from services.compensation.schemas import StatisticKind, TargetOut
from shared.i18n import Message
from shared.money import CENT
from shared.problems import UnprocessableContent


async def _statistic(session: AsyncSession, region: str, year: int, kind: StatisticKind) -> Decimal | None:
    """The statistic of the region, else of its nearest ancestor."""
    for code in reversed(ancestors_and_self(region)):
        row = await session.get(ReferenceStatistic, (code, year, kind.value))
        if row is not None:
            return row.value
    return None


async def _last_years(
    session: AsyncSession, region: str, year: int, kind: StatisticKind, missing: Message, rule: str
) -> Decimal:
    """The statistic of the year before ``year`` the target needs (``rule``); 422 ``missing`` without it."""
    value = await _statistic(session, region, year - 1, kind)
    if value is None:
        raise UnprocessableContent(missing, rule=rule, year=year - 1)
    return value


async def target_in_force(session: AsyncSession, region: str, year: int) -> TargetOut:
    """The region's target for ``year`` under the policy in force there (C2 or C3)."""
    return await compute_target(session, region, year, await policy_for(session, region, year))


async def compute_target(session: AsyncSession, region: str, year: int, policy: PayPolicy) -> TargetOut:
    """C2 or C3 for ``year``, from last year's statistics."""
    if policy.target_method == "post_floors":
        wage = await _last_years(
            session,
            region,
            year,
            StatisticKind.average_wage_all_employed,
            Message("缺少 {year} 年全社会单位就业人员年平均工资", "No {year} average wage of all employed persons"),
            "C3",
        )
        floors = taizhou_floors(policy, wage)
        return TargetOut(
            region_code=region,
            year=year,
            rule="C3",
            target_average=None,
            post_floors=floors,
            basis=f"{year - 1} average wage {wage}",
        )
    income = await _last_years(
        session,
        region,
        year,
        StatisticKind.urban_disposable_income,
        Message("缺少 {year} 年城镇常住居民人均可支配收入", "No {year} urban per-capita disposable income"),
        "C2",
    )
    actual = await _statistic(session, region, year - 1, StatisticKind.community_worker_average_pay)
    try:
        target = wenzhou_target(policy, income, actual)
    except TargetError as exc:
        raise UnprocessableContent(Message("{m}", "{m}"), rule=exc.rule, m=str(exc)) from exc
    basis = f"{policy.multiplier} × {income} (disposable income {year - 1})"
    if actual is not None and target == actual.quantize(CENT):
        basis += f", raised to last year's actual average {actual}"
    return TargetOut(region_code=region, year=year, rule="C2", target_average=target, post_floors=None, basis=basis)
