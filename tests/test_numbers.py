"""Numbers per language: the comma and thin-space thousands in Russian and Ukrainian."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crmkit.numbers import THIN, integer, money, number, percent


def test_russian_and_english_marks() -> None:
    assert number(4.3, "ru") == "4,30"
    assert number(4.3, "uk") == "4,30"
    assert number(4.3, "en") == "4.30"
    assert number(12500.5, "ru", 1) == f"12{THIN}500,5"
    assert number(12500.5, "en", 1) == "12,500.5"
    assert integer(1234567, "ru") == f"1{THIN}234{THIN}567"
    assert percent(0.59, "ru") == f"59{THIN}%"
    assert percent(0.59, "en") == "59%"
    assert money(125000, "ru") == f"125{THIN}000{THIN}₽"
    assert number(4.5, "ru", trim=True) == "4,5"
    assert number(-3.25, "en") == "−3.25"
    assert number(-0.001, "ru") == "0,00"  # no minus before a zero


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 4))
def test_a_russian_number_reads_back_as_the_rounded_value(value: float, digits: int) -> None:
    text = number(value, "ru", digits)
    back = float(text.replace(THIN, "").replace(",", ".").replace("−", "-"))
    assert abs(back - round(value, digits)) <= 10 ** (-digits) / 2 + 1e-6 * max(1, abs(value))
    assert "." not in text
