"""Property tests: what a field accepts on assignment is exactly what fits its type and limits."""

from __future__ import annotations

import datetime as dt
import decimal

from hypothesis import given
from hypothesis import strategies as st

import dorm


class Sample(dorm.Model):
    code = dorm.CharField(max_length=8, default="")
    small = dorm.SmallIntegerField(default=0)
    amount = dorm.DecimalField(max_digits=5, decimal_places=2, default=decimal.Decimal(0))
    when = dorm.DateTimeField(null=True)
    data = dorm.JSONField(null=True)

    class Meta:
        app_label = "proptests"


def _accepts(**kwargs: object) -> bool:
    try:
        Sample(**kwargs)
    except dorm.ValidationError:
        return False
    return True


@given(st.text(max_size=20))
def test_charfield_accepts_exactly_what_fits(text: str) -> None:
    assert _accepts(code=text) == (len(text) <= 8)


@given(st.integers(min_value=-(2**20), max_value=2**20))
def test_small_integer_range(number: int) -> None:
    assert _accepts(small=number) == (-(2**15) <= number < 2**15)
    if _accepts(small=number):
        assert Sample(small=str(number)).small == number


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6))
def test_decimal_digits_and_places(value: decimal.Decimal) -> None:
    fits = value == value.quantize(decimal.Decimal("0.01")) and abs(value) < 1000
    assert _accepts(amount=value) == fits
    if fits:
        assert Sample(amount=value).amount == value


@given(st.datetimes(timezones=st.timezones()))
def test_aware_datetimes_keep_the_instant(moment: dt.datetime) -> None:
    stored = Sample(when=moment).when
    assert stored == moment
    assert stored.tzinfo is not None


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=10,
    )
)
def test_json_accepts_json_values(value: object) -> None:
    assert Sample(data=value).data == value
