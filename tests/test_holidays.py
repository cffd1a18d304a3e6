"""The statutory holidays the fallback calendar knows (法定节假日, 补休), by law and by data."""

from __future__ import annotations

from collections import Counter
from datetime import date

import chinese_calendar
import pytest

from supervision.holidays import statutory_holidays


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_computed_holiday_is_off_in_the_official_schedule(year: int) -> None:
    # The law as amended in 2024 applies from 2025; the bundled official data covers 2026.
    computed = statutory_holidays(year)
    assert computed
    assert [d for d in computed if d not in chinese_calendar.holidays] == []


def test_the_thirteen_days_of_2027_and_their_substitutes() -> None:
    days = statutory_holidays(2027)
    by_name = Counter(name for name in days.values() if "补休" not in name)
    assert by_name == {
        "元旦": 1,
        "春节": 4,
        "清明节": 1,
        "劳动节": 2,
        "端午节": 1,
        "中秋节": 1,
        "国庆节": 3,
    }
    assert days[date(2027, 1, 1)] == "元旦"
    assert days[date(2027, 2, 5)] == "春节"  # 除夕
    assert days[date(2027, 2, 6)] == "春节"  # 正月初一
    assert days[date(2027, 4, 5)] == "清明节"  # the solar term
    assert days[date(2027, 6, 9)] == "端午节"  # 五月初五
    assert days[date(2027, 9, 15)] == "中秋节"  # 八月十五


def test_a_holiday_on_a_weekend_is_made_up_on_the_next_free_weekday() -> None:
    days = statutory_holidays(2027)
    # 初一 and 初二 fall on Saturday and Sunday; Monday is 初三 already, so Tuesday and
    # Wednesday are the substitutes.
    assert days[date(2027, 2, 9)] == "春节（补休）"
    assert days[date(2027, 2, 10)] == "春节（补休）"
    assert date(2027, 2, 11) not in days
    assert days[date(2027, 10, 4)] == "国庆节（补休）"  # for Saturday 10-02
    assert all(day.weekday() < 5 for day, name in days.items() if "补休" in name)


def test_years_beyond_the_lunar_tables_have_none() -> None:
    assert statutory_holidays(2100) == {}
