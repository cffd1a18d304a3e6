"""Statutory public holidays (法定节假日) computed from the lunar calendar and solar terms.

The fallback calendar of a year without official data uses them, so that no message goes out
on 元旦 or 春节 of a year whose schedule has not been published yet; only the 调休 swaps
(weekend days made working days) stay unknown. Pure domain code: no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType

import chinese_calendar
from lunardate import LunarDate

__all__ = ["FIRST_YEAR", "LAST_YEAR", "statutory_holidays"]

#: The years the lunar tables cover (lunardate: 1900-2099).
FIRST_YEAR = 1900
LAST_YEAR = 2098

_ONE_DAY = timedelta(days=1)


def _lunar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def _qingming(year: int) -> date:
    terms: list[tuple[date, str]] = chinese_calendar.get_solar_terms(
        date(year, 4, 1), date(year, 4, 10)
    )
    return next(day for day, name in terms if name == "清明")


def _holiday_days(year: int) -> dict[date, str]:
    """The days off of 《全国年节及纪念日放假办法》 (as amended in 2024, 13 days)."""
    new_year = _lunar(year, 1, 1)
    return {
        date(year, 1, 1): "元旦",
        new_year - _ONE_DAY: "春节",
        new_year: "春节",
        new_year + _ONE_DAY: "春节",
        new_year + 2 * _ONE_DAY: "春节",
        _qingming(year): "清明节",
        date(year, 5, 1): "劳动节",
        date(year, 5, 2): "劳动节",
        _lunar(year, 5, 5): "端午节",
        _lunar(year, 8, 15): "中秋节",
        date(year, 10, 1): "国庆节",
        date(year, 10, 2): "国庆节",
        date(year, 10, 3): "国庆节",
    }


@functools.cache
def statutory_holidays(year: int) -> Mapping[date, str]:
    """The days off of ``year`` by law, with their names, including 补休.

    A holiday that falls on a Saturday or Sunday is made up on the next weekday that is not
    itself a holiday (补休), as the law provides. ``year`` outside FIRST_YEAR..LAST_YEAR has
    none (the lunar tables end there).
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return MappingProxyType({})
    days = _holiday_days(year)
    result = dict(days)
    for day, name in sorted(days.items()):
        if day.weekday() < 5:
            continue
        substitute = day + _ONE_DAY
        while substitute.weekday() >= 5 or substitute in result:
            substitute += _ONE_DAY
        result[substitute] = f"{name}（补休）"
    # Cached: callers share one mapping per year, so they get it read-only.
    return MappingProxyType(result)
