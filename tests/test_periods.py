from datetime import date

import pytest

from storage.plan import texts_vi as vi
from storage.plan.periods import (
    PeriodError,
    Term,
    from_key,
    month,
    parse_period,
    previous_period,
    quarter,
    year_period,
)

TODAY = date(2026, 11, 27)
TERMS = [Term("2021-2026", date(2022, 1, 1), date(2026, 12, 31))]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tháng 11", "2026-11"),
        ("Tháng 11", "2026-11"),
        ("thang 11", "2026-11"),
        ("tháng 12", "2025-12"),  # not begun yet this year: last year's
        ("tháng 11/2026", "2026-11"),
        ("tháng 3/2025", "2025-03"),
        ("tháng 3 năm 2025", "2025-03"),
        ("T3/2025", "2025-03"),
        ("11/2026", "2026-11"),
        ("quý 3", "2026-Q3"),
        ("quý 4", "2026-Q4"),
        ("quý III/2026", "2026-Q3"),
        ("Quý IV/2025", "2025-Q4"),
        ("q2/2026", "2026-Q2"),
        ("quý 1 năm 2026", "2026-Q1"),
        ("6 tháng đầu năm", "2026-H1"),
        ("6 tháng cuối năm 2025", "2025-H2"),
        ("6 tháng đầu năm 2026", "2026-H1"),
        ("năm 2026", "2026"),
        ("2025", "2025"),
        ("năm nay", "2026"),
        ("năm ngoái", "2025"),
        ("tháng này", "2026-11"),
        ("tháng trước", "2026-10"),
        ("quý trước", "2026-Q3"),
        ("nhiệm kỳ", "NK2021-2026"),
        ("nhiệm kỳ 2021-2026", "NK2021-2026"),
        ("nhiệm kỳ 2021–2026", "NK2021-2026"),
        ("từ tháng 1 đến tháng 6", "2026-01..2026-06"),
        ("từ quý 1/2025 đến quý 2/2026", "2025-Q1..2026-Q2"),
        # Decomposed Unicode (as some phone keyboards send it) reads the same.
        ("qu\u0079\u0301 3", "2026-Q3"),
    ],
)
def test_parses_vietnamese_period_names(text: str, key: str) -> None:
    assert parse_period(text, TODAY, TERMS).key == key


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("tháng 13", "bad_month"),
        ("tháng 0/2026", "bad_month"),
        ("quý 5", "bad_quarter"),
        ("", "empty"),
        ("hôm qua", "unreadable"),
        ("nhiệm kỳ 2016-2021", "unknown_term"),
        ("từ tháng 6/2026 đến tháng 1/2026", "bad_range"),
        ("'; drop table submissions; --", "unreadable"),
    ],
)
def test_bad_periods_get_a_clear_vietnamese_error(text: str, error: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text, TODAY, TERMS)
    assert caught.value.key == error
    message = vi.PERIOD_ERRORS[caught.value.key].format(text=text)
    assert message and "{" not in message


def test_containment_and_months() -> None:
    q3 = quarter(2026, 3)
    assert [m.key for m in q3.months()] == ["2026-07", "2026-08", "2026-09"]
    assert q3.contains(month(2026, 8))
    assert not q3.contains(month(2026, 10))
    term = parse_period("nhiệm kỳ", TODAY, TERMS)
    assert len(term.months()) == 60
    assert term.contains(year_period(2024))
    assert not term.contains(year_period(2027))


def test_labels_keys_and_previous() -> None:
    assert quarter(2026, 3).label == "quý III/2026"
    assert month(2026, 11).label == "tháng 11/2026"
    assert parse_period("6 tháng đầu năm", TODAY).label == "6 tháng đầu năm 2026"
    assert parse_period("nhiệm kỳ", TODAY, TERMS).label == "nhiệm kỳ 2021–2026"
    assert previous_period(month(2026, 1)).key == "2025-12"
    assert previous_period(quarter(2026, 1)).key == "2025-Q4"
    for key in ("2026-11", "2026-Q3", "2026-H2", "2026", "NK2021-2026", "2026-01..2026-06"):
        assert from_key(key, TERMS).key == key


def test_elapsed_fraction_is_the_share_of_days_gone() -> None:
    year = year_period(2026)
    assert year.elapsed_fraction(date(2025, 12, 31)) == 0
    assert year.elapsed_fraction(date(2026, 12, 31)) == 1
    assert year.elapsed_fraction(date(2026, 7, 2)) == pytest.approx(183 / 365)
