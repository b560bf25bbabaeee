"""Durations: text with units (or plain numbers of hours) <-> float hours."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hasim.units import HOURS_PER_MONTH, HOURS_PER_YEAR, UNITS, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("250ms", 0.25 / 3600.0),
        ("1ms", 1.0 / 3_600_000.0),
        ("30s", 30.0 / 3600.0),
        ("3600s", 1.0),
        ("5m", 5.0 / 60.0),
        ("90min", 1.5),
        ("4h", 4.0),
        ("2d", 48.0),
        ("1w", 168.0),
        ("1mo", 730.0),
        ("1y", 8760.0),
        ("2y", 17520.0),
    ],
)
def test_every_unit(text, hours):
    assert parse_duration(text) == pytest.approx(hours, rel=1e-12)


def test_unit_table_and_calendar_constants():
    assert set(UNITS) == {"ms", "s", "m", "min", "h", "d", "w", "mo", "y"}
    assert UNITS["m"] == UNITS["min"]
    assert HOURS_PER_YEAR == 8760.0
    assert HOURS_PER_MONTH == pytest.approx(730.0)
    assert UNITS["mo"] * 12 == pytest.approx(UNITS["y"])


@pytest.mark.parametrize(
    ("value", "hours"),
    [
        (5, 5.0),
        (0, 0.0),
        (2.5, 2.5),
        (-3, -3.0),  # plain numbers may be negative: callers decide the range
        ("5", 5.0),
        ("2.5", 2.5),
        (" 7 ", 7.0),
        ("-1.5", -1.5),
        ("+2", 2.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1.5E-2", 0.015),
    ],
)
def test_plain_numbers_are_hours(value, hours):
    result = parse_duration(value)
    assert isinstance(result, float)
    assert result == pytest.approx(hours)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("1h30m", 1.5),
        ("1h 30m", 1.5),
        ("1d12h", 36.0),
        ("1w2d", 216.0),
        ("1m30s", 1.5 / 60.0),
        ("1s500ms", 1.5 / 3600.0),
        ("1.5h", 1.5),
        (".5d", 12.0),
        ("2.5e1s", 25.0 / 3600.0),
        (" 4h ", 4.0),
        ("4 h", 4.0),
        ("0s", 0.0),
    ],
)
def test_compound_and_spacing(text, hours):
    assert parse_duration(text) == pytest.approx(hours, rel=1e-12)


@pytest.mark.parametrize("text", ["", "   ", "h", "abc", "1h-30m", "-5h", "1..5h", "1h,30m", "h5", "5h!", "nan", "inf"])
def test_bad_text(text):
    with pytest.raises(ValueError, match=r"expected a duration like '720h' or '30s', got "):
        parse_duration(text)


@pytest.mark.parametrize(("text", "unit"), [("5x", "x"), ("5 secs", "secs"), ("5H", "H"), ("1h5q", "q"), ("3hours", "hours")])
def test_unknown_unit_names_the_unit_and_lists_the_known_ones(text, unit):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    message = str(info.value)
    assert message.startswith(f"unknown unit {unit!r} in {text!r}")
    assert "known units: ms, s, m, min, h, d, w, mo, y" in message


@pytest.mark.parametrize("value", [True, False])
def test_bools_are_rejected(value):
    with pytest.raises(ValueError, match=rf"expected a duration like '720h', got {value!r}"):
        parse_duration(value)


@pytest.mark.parametrize("value", [None, [1], {"h": 1}, b"5h", object()])
def test_other_types_are_rejected(value):
    with pytest.raises(ValueError, match=r"expected a duration like '720h', got "):
        parse_duration(value)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "1e400", "1e400h", float("nan")])
def test_non_finite_is_rejected(value):
    with pytest.raises(ValueError, match="expected a finite duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (0, "0s"),
        (0.5, "30m"),
        (1, "1h"),
        (1.5, "1.5h"),
        (36, "1.5d"),
        (8760, "1y"),
        (17520, "2y"),
        (730, "30.4d"),
        (30 / 3600, "30s"),
        (0.25 / 3600, "250ms"),
        (-0.5, "-30m"),
        (math.inf, "inf"),
        (1000 * 8760, "1000y"),     # no exponent (it printed '1e+03y')
        (123456 * 8760, "123456y"),
    ],
)
def test_format_duration(hours, text):
    assert format_duration(hours) == text


def test_format_never_uses_days_from_a_year_up():
    assert format_duration(8760 * 1.5) == "1.5y"
    assert format_duration(8759) == "365d"


@given(st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_format_then_parse_round_trips_to_three_significant_digits(hours):
    text = format_duration(hours)
    assert "e" not in text.rstrip("inf")
    assert parse_duration(text) == pytest.approx(hours, rel=5e-3)


@given(st.sampled_from(["ms", "s", "m", "h", "d", "y"]), st.integers(min_value=1, max_value=999))
def test_whole_numbers_of_a_unit_round_trip(unit, n):
    hours = parse_duration(f"{n}{unit}")
    assert parse_duration(format_duration(hours)) == pytest.approx(hours, rel=5e-3)
