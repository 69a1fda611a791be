"""Demo data through the real API: ``make demo`` (after ``make up``), or ``python -m deploy.local.demo``.

A Taizhou district (台州市椒江区 331002) with two streets, five communities of different kinds and sizes,
its 2026 quota, thirty workers with posts and contracts, an assessment scheme and a pay scale — enough
for the staffing report, the renewal worklist and a payroll run to show something. Everything goes
through the gateway with the admin's token, so it exercises the same rules as any client. Running it
twice is safe: what exists is left as it is.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = os.environ.get("SHEGONG_DEMO_GATEWAY", f"http://127.0.0.1:{os.environ.get('SHEGONG_GATEWAY_PORT', '8000')}")
COUNTY = os.environ.get("SHEGONG_DEMO_COUNTY", "331002")  # another county of 浙江 may be named


def streets(county: str) -> dict[str, str]:
    return {f"{county}001000": "海门街道", f"{county}002000": "白云街道"}


def communities(county: str) -> list[tuple[str, str, str, int, int]]:
    """(code, name, kind, households, workers): some fully staffed, some not, so the report has findings."""
    return [
        (f"{county}001001", "东山社区", "urban", 2600, 6),  # 7 required (S2): one short
        (f"{county}001002", "西门社区", "old_town", 3099, 9),  # 8 (S2) + 1 approved (S3)
        (f"{county}001003", "江滨社区", "commercial_residential", 1800, 7),  # 6 + 1 approved (S3)
        (f"{county}002001", "白云社区", "urban", 2100, 6),  # 6 (S1); one with grid duties (S8)
        (f"{county}002002", "洪家村", "rural", 900, 2),  # 1–2 (S4)
    ]


def id_number(serial: int, county: str = COUNTY) -> str:
    body = f"{county}1988{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 100:02d}{1 + serial % 2}"
    return body + ric.calc_check_digit(body + "0")


def admin_password() -> str:
    given = os.environ.get("SHEGONG_BOOTSTRAP_ADMIN_PASSWORD")
    if given:
        return given
    return (Path(os.environ.get("SHEGONG_DATA_DIR", ROOT / ".data")) / "admin-password").read_text().strip()


def send(
    client: httpx.Client,
    method: str,
    path: str,
    body: dict[str, object] | None = None,
    params: dict[str, str] | None = None,
    ok: tuple[int, ...] = (200, 201, 409),
) -> httpx.Response:
    """One call; a 429 is waited out as its Retry-After says; by default an existing record (409) is fine."""
    while True:
        response = client.request(method, path, json=body, params=params)
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("retry-after", "1")))
    if response.status_code not in ok:
        raise SystemExit(f"{path}: {response.status_code} {response.text}")
    return response


def post(client: httpx.Client, path: str, body: dict[str, object]) -> httpx.Response:
    return send(client, "POST", path, body)


def put(client: httpx.Client, path: str, body: dict[str, object]) -> httpx.Response:
    return send(client, "PUT", path, body)


def load(client: httpx.Client, county: str = COUNTY) -> None:
    """The demo district in ``county``, through ``client`` (based at the gateway's ``/api/v1``, signed in)."""
    post(client, "/roster/regions", {"code": "330000", "name": "浙江省"})
    post(client, "/roster/regions", {"code": county[:4] + "00", "name": "台州市", "parent_code": "330000"})
    post(client, "/roster/regions", {"code": county, "name": "椒江区", "parent_code": county[:4] + "00"})
    for code, name in streets(county).items():
        post(client, "/roster/regions", {"code": code, "name": name, "parent_code": county})
    for code, name, kind, households, _ in communities(county):
        extra = (
            {"extra_staff": 1, "extra_staff_approval": "椒组〔2026〕7号"}
            if kind in ("old_town", "commercial_residential")
            else {}
        )
        post(
            client,
            "/roster/regions",
            {
                "code": code,
                "name": name,
                "parent_code": code[:9] + "000",
                "kind": kind,
                "households": households,
                **extra,
            },
        )
    for year in (2024, 2025, 2026):
        put(client, f"/roster/quotas/{county}/{year}", {"headcount": 45, "approval": "椒编〔2024〕3号"})
    serial = 0
    for code, _, kind, _, size in communities(county):
        for n in range(size):
            serial += 1
            hired = post(
                client,
                "/roster/workers",
                {
                    "id_number": id_number(serial, county),
                    "name": f"社工{serial:02d}",
                    "community_code": code,
                    "hire_date": "2024-03-01",
                    "generalist": n < 2,
                    "lives_in_community": n == 0,
                    "grid_duties": code.endswith("002001") and n == size - 1,
                    "certificate_level": ("assistant", "social_worker", "senior", None)[serial % 4],
                    "certificate_date": "2024-09-01",
                },
            )
            if hired.status_code != 201:
                continue
            worker = hired.json()["id"]
            post_name, grade = ("chief", 9) if n == 0 else ("deputy", 6) if n == 1 and kind != "rural" else ("staff", 3)
            post(
                client,
                f"/roster/workers/{worker}/posts",
                {"post": post_name, "grade": grade, "start_date": "2024-03-01"},
            )
            for start in ("2024-03-01", "2025-03-01"):
                post(client, f"/roster/workers/{worker}/contracts", {"start_date": start})
    recruitment(client, county)
    cells = [
        {"post": p, "grade": g, "annual_amount": f"{base + 2800 * g}.00"}
        for p, base in (("chief", 98000), ("deputy", 86000), ("staff", 74000))
        for g in range(1, 19)
    ]
    put(client, f"/compensation/pay-scales/{county}/2026", {"cells": cells})
    # The statistic the city's C3 target of 2026 is computed from (the console's pay-against-policy page).
    put(
        client,
        f"/compensation/reference-statistics/{county[:4]}00/2025/average_wage_all_employed",
        {"value": "98000.00", "source": "示例数据：台州市2025年全口径城镇单位就业人员平均工资（演示用，非公布数）"},
    )
    put(
        client,
        f"/evaluation/schemes/{county}/2025",
        {
            "groups": [
                {"code": "township_cadres", "weight": "0.3"},
                {"code": "peers", "weight": "0.1"},
                {"code": "residents", "weight": "0.6", "min_panel": 50, "min_ordinary_share": "0.7"},
            ],
            "thresholds": {"excellent": "90", "competent": "70", "basically_competent": "60"},
            "excellent_cap_share": "0.2",
            "source": "示例：参照嘉兴南湖区做法",
        },
    )


def recruitment(client: httpx.Client, county: str) -> None:
    """Two recruitment rounds (H1) with reserve candidates (H2, at most 1:1 of hires): the 2025 round's
    reserve expired when the 2026 round was announced; the 2026 round's is the live pool. Made once."""
    existing = send(client, "GET", "/roster/recruitment-rounds", params={"county": county}, ok=(200,))
    titles = {r["title"] for r in existing.json()}
    rounds = (
        ("2025-04-01", "recruitment", 4, f"{county} 2025年社区工作者公开招聘", 2),
        ("2026-04-01", "election", 3, f"{county} 2026年社区工作者选任", 3),
    )
    for serial, (announced, channel, hires, title, reserve) in enumerate(rounds):
        if title in titles:
            continue
        created = post(
            client,
            "/roster/recruitment-rounds",
            {"county_code": county, "channel": channel, "announced_on": announced, "hires": hires, "title": title},
        )
        candidates = [
            {
                "name": f"候选{serial}{n}",
                "id_number": id_number(500 + 10 * serial + n, county),
                "score": f"{88 - 3 * n}.50",
            }
            for n in range(reserve)
        ]
        post(client, f"/roster/recruitment-rounds/{created.json()['id']}/reserve", {"candidates": candidates})


def main() -> int:
    token = httpx.post(
        f"{GATEWAY}/api/v1/auth/token",
        data={"grant_type": "password", "username": "admin", "password": admin_password()},
    ).json()["access_token"]
    with httpx.Client(base_url=f"{GATEWAY}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        load(client)
    print(f"demo data for 台州市椒江区 {COUNTY}: {GATEWAY}/api/v1/roster/reports/staffing?region={COUNTY}")
    print(f"in the console: {GATEWAY}/console/staffing?region={COUNTY} (sign in as admin)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
