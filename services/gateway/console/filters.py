"""The filters several console pages take, parsed once: the region (by default the user's first) and the
year (by default this year in China; a year assessed, last year)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from services.gateway.console.render import REGION, default_region
from services.gateway.console.session import User

CHINA = ZoneInfo("Asia/Shanghai")


async def region_filter(user: User, region: Annotated[str | None, Query(pattern=REGION)] = None) -> str:
    return region or default_region(user)


async def year_filter(year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> int:
    return year or datetime.now(CHINA).year


async def year_assessed_filter(year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> int:
    """A year assessed: by default last year (a year's bonus is shared once its assessments are final)."""
    return year or datetime.now(CHINA).year - 1


Region = Annotated[str, Depends(region_filter)]
Year = Annotated[int, Depends(year_filter)]
YearAssessed = Annotated[int, Depends(year_assessed_filter)]
