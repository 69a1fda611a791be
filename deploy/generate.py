"""Realistic test data in the roster's import formats (issue #13), deterministic by seed, streamed (a
million workers never sit in memory):

    python -m deploy.generate --seed 1 --workers 3000 --out DIR [--no-xlsx]

writes ``DIR/regions.csv`` in the regions import format (province, the cities of 温州 330300 and
台州 331000, their real districts and counties, plausible townships and communities under them),
``DIR/quotas.csv`` (each county's quota for this year, S5, with room), and ``DIR/workforce.csv`` /
``DIR/workforce.xlsx`` in the workforce import format. About ten workers a community: one chief (P2), two
deputies (P3), the rest staff, each graded within their post's range (C4); ID numbers valid (GB 11643 check
digit), unique by construction; ages 22–48 today, hired at 18 or older; a few have left; current contracts
start on the last anniversary of the hire
(H3).
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta
from openpyxl import Workbook
from stdnum.cn import ric

from services.roster import regions_format
from services.roster.domain.lifecycle import Employment as Period
from services.roster.domain.lifecycle import status_on
from services.roster.domain.staffing_policy import preset_for
from services.roster.workforce_format import CHOICES, COLUMNS, DUTIES, DUTY_SEPARATOR, NO, YES
from shared.business_time import business_today
from shared.vocabulary import GRADE_RANGES

PROVINCE = ("330000", "浙江省")
CITIES = {"330300": "温州市", "331000": "台州市"}
COUNTIES = {
    "330302": "鹿城区",
    "330303": "龙湾区",
    "330304": "瓯海区",
    "330305": "洞头区",
    "330324": "永嘉县",
    "330326": "平阳县",
    "330327": "苍南县",
    "330328": "文成县",
    "330329": "泰顺县",
    "330381": "瑞安市",
    "330382": "乐清市",
    "330383": "龙港市",
    "331002": "椒江区",
    "331003": "黄岩区",
    "331004": "路桥区",
    "331022": "三门县",
    "331023": "天台县",
    "331024": "仙居县",
    "331081": "温岭市",
    "331082": "临海市",
    "331083": "玉环市",
}
PLACE = "东西南北上下新前后江山水湖桥塘岙溪林石松竹梅兰华安平宁和丰泰瑞福康永盛龙凤鹤云海城港湾"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕丁"
    "任卢姚沈钟姜崔谭陆范汪廖金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武洪"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国建华志强晓东海燕春梅雪梅丹丹"
WORKERS_PER_COMMUNITY = 10
COMMUNITIES_PER_TOWNSHIP = 10
BIRTH_SPAN_DAYS = 26 * 365  # ages 22–48 today


@dataclass(frozen=True)
class Community:
    code: str
    name: str
    township: str
    county: str


def _place(rng: random.Random) -> str:
    return rng.choice(PLACE) + rng.choice(PLACE)


def communities(
    seed: int, workers: int, counties: Sequence[str] = tuple(COUNTIES)
) -> Iterator[tuple[str, str, str, str, str | None, int]]:
    """(code, name, parent, level, kind, households) of the whole tree, top down, communities streamed."""
    rng = random.Random(f"{seed}-regions")  # noqa: S311 - test data, reproducible by seed
    yield (PROVINCE[0], PROVINCE[1], "", "province", None, 0)
    for code, name in CITIES.items():
        if any(county.startswith(code[:4]) for county in counties):
            yield (code, name, PROVINCE[0], "city", None, 0)
    for code in counties:
        yield (code, COUNTIES[code], code[:4] + "00", "county", None, 0)
    count = math.ceil(workers / WORKERS_PER_COMMUNITY)
    townships = math.ceil(count / COMMUNITIES_PER_TOWNSHIP)
    made = 0
    for t in range(townships):
        county = counties[t % len(counties)]
        township = f"{county}{t // len(counties) + 1:03d}000"
        yield (township, _place(rng) + rng.choice(("街道", "镇")), county, "township", None, 0)
        for c in range(1, COMMUNITIES_PER_TOWNSHIP + 1):
            if made == count:
                break
            made += 1
            rural = rng.random() < 0.3
            name = _place(rng) + ("村" if rural else "社区")
            yield (
                township[:9] + f"{c:03d}",
                name,
                township,
                "community",
                "rural" if rural else "urban",
                rng.randint(800, 3200),
            )


def community_of(index: int, counties: Sequence[str] = tuple(COUNTIES)) -> str:
    """The code of the ``index``-th community (0-based), the same arithmetic as :func:`communities`."""
    t, c = divmod(index, COMMUNITIES_PER_TOWNSHIP)
    county = counties[t % len(counties)]
    return f"{county}{t // len(counties) + 1:03d}{c + 1:03d}"


def id_number(j: int, county: str, today: date) -> str:
    """The ``j``-th person's ID number: birth date and sequence from ``j`` (unique by construction)."""
    offset = (j * 7919) % BIRTH_SPAN_DAYS
    sequence = (j // BIRTH_SPAN_DAYS) % 1000
    birth = today - relativedelta(years=48) + timedelta(days=offset)
    body = f"{county}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def _date_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def workforce_rows(
    seed: int, workers: int, today: date, counties: Sequence[str] = tuple(COUNTIES)
) -> Iterator[list[object]]:
    """One row per worker, in the import format's columns."""
    rng = random.Random(f"{seed}-workers")  # noqa: S311 - test data, reproducible by seed
    keys = [c.key for c in COLUMNS]
    labels = {key: list(CHOICES[key].values()) for key in ("education", "political_status", "certificate_level")}
    duty_labels = list(DUTIES.values())
    for j in range(workers):
        community_index, position = divmod(j, WORKERS_PER_COMMUNITY)
        community = community_of(community_index, counties)
        number = id_number(j, community[:6], today)
        birth = ric.get_birth_date(number)
        post = "chief" if position == 0 else "deputy" if position in (1, 2) else "staff"
        low, high = GRADE_RANGES[post]
        earliest = max(birth + relativedelta(years=22), date(2012, 1, 1))
        hire = _date_between(rng, earliest, today - timedelta(days=1))
        left = _date_between(rng, hire, today - timedelta(days=1)) if rng.random() < 0.02 else None
        last_day = left or today
        anniversaries = relativedelta(last_day, hire).years
        contract = hire + relativedelta(years=anniversaries)
        probation = hire + relativedelta(months=preset_for(community).probation_months)
        status = status_on([Period(hire, left, probation)], [], today)
        certified = rng.random() < 0.4
        row = {
            "id_number": number,
            "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            "sex": CHOICES["sex"]["male" if int(number[16]) % 2 else "female"],
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            "education": rng.choice(labels["education"][:4]),
            "political_status": rng.choice(labels["political_status"]),
            "community_code": community,
            "community_name": None,
            "hire_date": hire,
            "left_date": left,
            "status": CHOICES["status"][status],
            "lives_in_community": YES if rng.random() < 0.5 else NO,
            "generalist": YES if rng.random() < 0.3 else NO,
            "grid_duties": NO,
            "post": CHOICES["post"][post],
            "grade": rng.randint(low, high),
            "post_start_date": hire,
            "approval": None,
            "duties": DUTY_SEPARATOR.join(rng.sample(duty_labels, rng.randint(1, 2))) if post == "staff" else None,
            "contract_start": contract,
            "certificate_level": rng.choice(labels["certificate_level"]) if certified else None,
            "certificate_date": _date_between(rng, hire, last_day) if certified else None,
        }
        yield [row[k] for k in keys]


def quotas(workers: int, today: date, counties: Sequence[str] = tuple(COUNTIES)) -> Iterator[tuple[str, int, int]]:
    """Each county's quota for this year: its share of the workers, with a tenth of room."""
    per_county: dict[str, int] = {}
    for index in range(math.ceil(workers / WORKERS_PER_COMMUNITY)):
        county = community_of(index, counties)[:6]
        size = min(WORKERS_PER_COMMUNITY, workers - index * WORKERS_PER_COMMUNITY)
        per_county[county] = per_county.get(county, 0) + size
    for county, count in per_county.items():
        yield county, today.year, math.ceil(count * 1.1) + 5


def _text(value: object) -> object:
    return "" if value is None else value.isoformat() if isinstance(value, date) else value


def write(
    out: Path,
    seed: int,
    workers: int,
    xlsx: bool = True,
    today: date | None = None,
    counties: Sequence[str] = tuple(COUNTIES),
) -> dict[str, Path]:
    """Write the files (in ``counties``, default every district and county of both cities); their paths."""
    unknown = set(counties) - set(COUNTIES)
    if unknown:
        raise ValueError(f"not a Wenzhou or Taizhou county: {sorted(unknown)}")
    day = today or business_today()
    out.mkdir(parents=True, exist_ok=True)
    paths = {"regions": out / "regions.csv", "quotas": out / "quotas.csv", "workforce_csv": out / "workforce.csv"}
    with paths["regions"].open("w", encoding="utf-8-sig", newline="") as f:  # the regions import format
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([c.zh for c in regions_format.COLUMNS])
        writer.writerow([c.en for c in regions_format.COLUMNS])
        for code, name, parent, level, kind, households in communities(seed, workers, counties):
            kind_label = regions_format.KINDS[kind] if kind else ""
            writer.writerow([code, name, parent, regions_format.LEVELS[level], kind_label, households, "", "", ""])
    with paths["quotas"].open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["county_code", "year", "headcount"])
        writer.writerows(quotas(workers, day, counties))
    with paths["workforce_csv"].open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([c.zh for c in COLUMNS])
        writer.writerow([c.en for c in COLUMNS])
        for row in workforce_rows(seed, workers, day, counties):
            writer.writerow([_text(v) for v in row])
    if xlsx:
        paths["workforce_xlsx"] = out / "workforce.xlsx"
        book = Workbook(write_only=True)
        sheet = book.create_sheet("社区工作者 workforce")
        sheet.append([c.zh for c in COLUMNS])
        sheet.append([c.en for c in COLUMNS])
        for row in workforce_rows(seed, workers, day, counties):
            sheet.append(row)
        book.save(paths["workforce_xlsx"])
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=3000, help="100 to 1,000,000")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-xlsx", action="store_true", help="CSV only (faster for a million)")
    parser.add_argument("--counties", default=",".join(COUNTIES), help="comma-separated county codes (default: all)")
    args = parser.parse_args(argv)
    if not 100 <= args.workers <= 1_000_000:
        parser.error("--workers must be 100 to 1,000,000")
    for kind, path in write(
        args.out, args.seed, args.workers, xlsx=not args.no_xlsx, counties=args.counties.split(",")
    ).items():
        print(f"{kind}: {path}")  # noqa: T201 - a command-line tool
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
