"""Working age on a date: at least 18, and below the statutory retirement age for the birth month and sex.

The retirement ages follow the NPC Standing Committee's decision on the gradual raising of the statutory
retirement age (2024-09-13, in force 2025-01-01): men 60 → 63, women on the 55 track (cadres) 55 → 58,
women on the 50 track (workers) 50 → 55. Those born from the first month of the schedule wait one more
month per 4 months of birth (per 2 months on the women-50 track), up to the new age:

- men born 1965-01 onward: 60 years + 1 month per 4 months, 63 from births in 1976-09;
- women-55 born 1970-01 onward: 55 years + 1 month per 4 months, 58 from births in 1981-09;
- women-50 born 1975-01 onward: 50 years + 1 month per 2 months, 55 from births in 1984-11.

Community workers (专职社区工作者) are treated as cadres: women follow the 55 → 58 track.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dateutil.relativedelta import relativedelta

ADULT_AGE = 18
EARLIEST_BIRTH = date(1900, 1, 1)


class RetirementTrack(StrEnum):
    male = "male"
    female_cadre = "female_cadre"  # 女职工原法定退休年龄 55 岁
    female_worker = "female_worker"  # 女职工原法定退休年龄 50 岁


@dataclass(frozen=True)
class Schedule:
    base_years: int
    first_birth: date  # the first birth month the reform delays
    months_per_step: int  # months of birth per month of delay
    max_delay_months: int


SCHEDULES = {
    RetirementTrack.male: Schedule(60, date(1965, 1, 1), 4, 36),
    RetirementTrack.female_cadre: Schedule(55, date(1970, 1, 1), 4, 36),
    RetirementTrack.female_worker: Schedule(50, date(1975, 1, 1), 2, 60),
}


def track_for(sex: str) -> RetirementTrack:
    """The track of a community worker: men's, or the women-cadre 55 → 58 track."""
    return RetirementTrack.male if sex == "male" else RetirementTrack.female_cadre


def retirement_age(birth: date, track: RetirementTrack) -> relativedelta:
    """Statutory retirement age (years and months) for someone born in ``birth``'s month on ``track``."""
    schedule = SCHEDULES[track]
    months_after = (birth.year - schedule.first_birth.year) * 12 + birth.month - schedule.first_birth.month
    delay = 0 if months_after < 0 else min(schedule.max_delay_months, months_after // schedule.months_per_step + 1)
    return relativedelta(years=schedule.base_years, months=delay)


def _reached(birth: date, age: relativedelta) -> date:
    """The day an age is reached; someone born on 29 February reaches it on 1 March in other years."""
    day: date = birth + age
    return day + relativedelta(days=1) if (birth.month, birth.day) == (2, 29) and day.day == 28 else day


def retirement_date(birth: date, track: RetirementTrack) -> date:
    """The day the statutory retirement age is reached (from then on no longer of working age)."""
    return _reached(birth, retirement_age(birth, track))


@dataclass(frozen=True)
class AgeProblem:
    field: str
    zh: str
    en: str


def birth_date_problem(birth: date, today: date) -> AgeProblem | None:
    """A birth date in the future or before 1900 is not a person's."""
    if birth > today:
        return AgeProblem("birth_date", f"出生日期 {birth} 晚于今天", f"the birth date {birth} is in the future")
    if birth < EARLIEST_BIRTH:
        return AgeProblem("birth_date", f"出生日期 {birth} 早于 1900 年", f"the birth date {birth} is before 1900")
    return None


def working_age_problem(birth: date, sex: str, on: date) -> AgeProblem | None:
    """Why someone born on ``birth`` is not of working age on ``on`` (the hire date), if they are not."""
    adult = _reached(birth, relativedelta(years=ADULT_AGE))
    if on < adult:
        return AgeProblem(
            "hire_date", f"入职时未满 18 周岁（{adult} 满）", f"under 18 on the hire date (18 on {adult})"
        )
    retires = retirement_date(birth, track_for(sex))
    if on >= retires:
        age = retirement_age(birth, track_for(sex))
        return AgeProblem(
            "hire_date",
            f"入职时已达法定退休年龄 {age.years} 岁 {age.months} 个月（{retires}）",
            f"at or past the statutory retirement age of {age.years} years {age.months} months on the hire date "
            f"(reached {retires})",
        )
    return None
