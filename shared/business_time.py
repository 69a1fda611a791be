"""Business dates are Shanghai dates (CONVENTIONS): "today" for a status, a calibration or a default year is
the date in Asia/Shanghai, whatever the server's clock zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TIME_ZONE = ZoneInfo("Asia/Shanghai")


def business_today() -> date:
    return datetime.now(BUSINESS_TIME_ZONE).date()
