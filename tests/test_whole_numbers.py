"""Whole numbers typed by a person: digits other than 0-9 and huge numbers are refused."""

from __future__ import annotations

import pytest

from procclaw.whole_numbers import whole_number


@pytest.mark.parametrize(
    ("text", "least", "most", "value"),
    [
        ("0", 0, 10, 0),
        ("007", 0, 10, 7),
        ("10", 0, 10, 10),
        ("11", 0, 10, None),
        ("0", 1, 10, None),
        ("", 0, 10, None),
        ("-1", 0, 10, None),
        ("1.5", 0, 10, None),
        (" 3", 0, 10, None),
        ("²", 0, 10, None),  # a digit to str.isdigit, not to int()
        ("٣", 0, 10, None),  # Arabic-Indic three: int() takes it, a person did not mean it
        ("9" * 5000, 0, 10**9, None),  # int() refuses past 4,300 digits
        ("0" * 5000 + "5", 0, 10, 5),
    ],
)
def test_whole_number(text, least, most, value):
    assert whole_number(text, least, most) == value


def test_without_bounds_any_size_that_fits_in_an_index_is_a_number():
    assert whole_number("123456789012") == 123456789012
    assert whole_number("9" * 40) is None
