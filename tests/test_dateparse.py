"""Reading typed dates: the accepted forms, the next occurrence, and garbage never crashing."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.dateparse import parse_date
from supervision.errors import ValidationFailed

TODAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-31", date(2027, 1, 31)),
        ("2027/1/31", date(2027, 1, 31)),
        ("2027年1月31日", date(2027, 1, 31)),
        (" 2027 年 1 月 31 日 ", date(2027, 1, 31)),
        ("１月３１日", date(2027, 1, 31)),  # full-width digits
        ("1月31日", date(2027, 1, 31)),  # already past this year: next year
        ("12月1日", date(2026, 12, 1)),
        ("11月2日", date(2026, 11, 2)),  # today counts as the next occurrence
        ("11月1日", date(2027, 11, 1)),
        ("2月29日", date(2028, 2, 29)),
    ],
)
def test_accepted_forms(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "tomorrow", "2027-02-30", "13月1日", "2027-1", "31/1/2027", "1" * 50]
)
def test_rejected_forms(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_date(text, today=TODAY)


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_iso_and_chinese_round_trip(day: date) -> None:
    assert parse_date(day.isoformat(), today=TODAY) == day
    assert parse_date(f"{day.year}/{day.month}/{day.day}", today=TODAY) == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日", today=TODAY) == day


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)),
)
def test_month_day_is_the_next_occurrence(target: date, today: date) -> None:
    got = parse_date(f"{target.month}月{target.day}日", today=today)
    assert (got.month, got.day) == (target.month, target.day)
    assert got >= today
    assert (got - today).days <= 366 * 4  # 29 February may skip to the next leap year
    if (target.month, target.day) != (2, 29):
        assert (got - today).days < 366


@given(st.text(max_size=80))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    try:
        parsed = parse_date(text, today=TODAY)
    except ValidationFailed as exc:
        assert str(exc)
    else:
        assert isinstance(parsed, date)
