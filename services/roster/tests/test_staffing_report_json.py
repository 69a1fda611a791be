"""The staffing report written straight to JSON (issue #16) is byte for byte what the pydantic models wrote
(``schemas.StaffingReport`` built from ``compliance.staffing_compliance`` as the route did), in Chinese and
English, with community and county findings (S1, S2, S5, S6, S7, S8, P2), a Taizhou preset and parameters
set on a county and on one community; and the policy resolved once per township is ``resolve_policy`` of
each community."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.roster.compliance import _policy_resolver, staffing_compliance
from services.roster.domain.staffing import Finding
from services.roster.models import StaffingPolicyOverride
from services.roster.regions import resolve_policy
from services.roster.schemas import CommunityKind, CommunityReport, FindingOut, QuotaUse, StaffingReport
from services.roster.tests.conftest import COMMUNITY_A, COMMUNITY_B, COMMUNITY_C, COUNTY, Roster

DAY = date(2026, 3, 1)


async def models_json(roster: Roster, region: str, english: bool) -> bytes:
    """The reference: the report as the route built it before, one pydantic model per community and finding."""
    async with roster.service.app.state.sessionmaker() as session:
        result = await staffing_compliance(session, region, DAY)

    def finding_out(f: Finding) -> FindingOut:
        message = f.message_en if english else f.message_zh
        return FindingOut(rule=f.rule, region=f.community, message=message, expected=f.expected, actual=f.actual)

    communities = [
        CommunityReport(
            code=c.code,
            name=c.name,
            kind=CommunityKind(c.kind) if c.kind else None,
            households=c.households,
            required=c.required,
            actual=c.actual,
            findings=[finding_out(f) for f in c.findings],
        )
        for c in result.communities
    ]
    quotas = [QuotaUse(county_code=q.county, headcount=q.headcount, used=q.used, findings=[]) for q in result.quotas]
    for f in result.quota_findings:
        next(q for q in quotas if q.county_code == f.community).findings.append(finding_out(f))
    report = StaffingReport(region=region, date=DAY, communities=communities, quotas=quotas, findings=result.total)
    return report.model_dump_json().encode()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_json_is_the_models_json_byte_for_byte(roster: Roster, language: str) -> None:
    await roster.region("331000", "台州市", "330000")
    await roster.region("331002", "椒江区", "331000")
    await roster.region("331002001000", "海门街道", "331002")
    await roster.region("331002001001", "社区T", "331002001000", kind="urban", households=1500)
    await roster.client.put("/v1/quotas/331002/2026", headers=roster.province_admin, json={"headcount": 10})
    for n in range(6):
        worker = await roster.hire(n, community="331002001001", generalist=False, lives_in_community=False)
        if n == 0:
            await roster.assign(worker["id"], "chief", 10)
    await roster.client.put("/v1/quotas/331002/2026", headers=roster.province_admin, json={"headcount": 5})  # S5
    for n, community in enumerate([COMMUNITY_A, COMMUNITY_A, COMMUNITY_B, COMMUNITY_C]):
        await roster.hire(20 + n, community=community, grid_duties=n == 0)  # S1/S2, S8, P2
    for code, parameters in ((COUNTY, {"base_staff": 5}), (COMMUNITY_B, {"base_staff": 3, "min_generalists": 1})):
        put = await roster.client.put(
            f"/v1/staffing-policies/{code}/2026",
            headers=roster.province_admin,
            json={"parameters": parameters, "source": "测试文件"},
        )
        assert put.status_code == 200, put.text
    for region in ("330000", COUNTY, COMMUNITY_B):
        response = await roster.client.get(
            "/v1/reports/staffing",
            headers={**roster.province_admin, "Accept-Language": language},
            params={"region": region, "date": DAY.isoformat()},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.content == await models_json(roster, region, language == "en")
    report = response.json()
    # B's own parameters over the county's: 3 + 1 for 2,500 households (S2), one generalist (S7)
    assert [f["rule"] for c in report["communities"] for f in c["findings"]] == ["S2", "S7", "P2", "P3"]
    assert report["communities"][0]["required"] == 4


codes = st.sampled_from(["330000", "330300", "330302", "330302001000", "330302001001", "330302001002"])
parameters = st.fixed_dictionaries({}, optional={"base_staff": st.integers(1, 9), "min_generalists": st.integers(0, 3)})


@given(st.dictionaries(codes, parameters, max_size=6))
def test_a_policy_resolved_per_township_is_resolve_policy_of_each_community(
    overrides: dict[str, dict[str, int]],
) -> None:
    rows = {
        code: StaffingPolicyOverride(region_code=code, year=2026, parameters=values, source=f"文件 {code}")
        for code, values in overrides.items()
    }
    policy_of = _policy_resolver(rows)
    for community in ("330302001001", "330302001002", "330302001003", "330302002001"):
        assert policy_of(community) == resolve_policy(rows, community)
