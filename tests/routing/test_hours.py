import datetime as dt

import pytest

from routing import hours
from routing.models import BusinessHours

UTC = dt.UTC


def berlin(**kw):
    return BusinessHours(
        name="Berlin",
        timezone="Europe/Berlin",
        weekly={d: [["09:00", "17:00"]] for d in BusinessHours.DAYS[:5]},
        **kw,
    )


def at(*args):
    return dt.datetime(*args, tzinfo=UTC)


def test_friday_afternoon_rolls_over_the_weekend():
    # Fri 2026-11-20 16:00 Berlin (15:00 UTC) + 2 business hours = Mon 10:00 Berlin (09:00 UTC)
    assert hours.add(berlin(), at(2026, 11, 20, 15, 0), 2 * 3600) == at(2026, 11, 23, 9, 0)


def test_a_message_at_night_starts_counting_at_opening():
    # Tue 03:00 UTC (04:00 Berlin) + 30 min = Tue 09:30 Berlin (08:30 UTC)
    assert hours.add(berlin(), at(2026, 11, 24, 3, 0), 1800) == at(2026, 11, 24, 8, 30)


def test_holidays_are_skipped():
    calendar = berlin(holidays=["2026-12-24", "2026-12-25"])
    # Wed 23 Dec 16:00 Berlin + 2 h: 1 h on Wed, Thu/Fri holidays, weekend, Mon 28 Dec 10:00 Berlin
    assert hours.add(calendar, at(2026, 12, 23, 15, 0), 2 * 3600) == at(2026, 12, 28, 9, 0)


def test_daylight_saving_change_counts_real_business_time():
    # Clocks go back on Sun 2026-10-25 in Berlin: Friday 23rd opens 09:00 CEST (07:00 UTC),
    # Monday 26th opens 09:00 CET (08:00 UTC). From Fri 16:00 CEST + 2 h -> Mon 10:00 CET.
    assert hours.add(berlin(), at(2026, 10, 23, 14, 0), 2 * 3600) == at(2026, 10, 26, 9, 0)
    # Spring forward on Sun 2026-03-29: Mon 30th 09:00 CEST is 07:00 UTC.
    assert hours.add(berlin(), at(2026, 3, 27, 15, 0), 2 * 3600) == at(2026, 3, 30, 8, 0)


def test_a_24h_clock_across_the_dst_night_is_24_real_hours():
    calendar = BusinessHours(name="24/7", always_open=True)
    assert hours.add(calendar, at(2026, 10, 24, 12, 0), 24 * 3600) == at(2026, 10, 25, 12, 0)
    assert hours.add(None, at(2026, 10, 24, 12, 0), 60) == at(2026, 10, 24, 12, 1)


def test_elapsed_is_the_inverse_of_add():
    calendar = berlin(holidays=["2026-12-25"])
    start = at(2026, 12, 22, 14, 30)
    for seconds in [0, 60, 3600, 8 * 3600, 30 * 3600, 100 * 3600]:
        assert hours.elapsed(calendar, start, hours.add(calendar, start, seconds)) == pytest.approx(
            seconds
        )


def test_is_open():
    calendar = berlin()
    assert hours.is_open(calendar, at(2026, 11, 24, 10, 0))
    assert not hours.is_open(calendar, at(2026, 11, 24, 16, 0))  # 17:00 Berlin: closed
    assert not hours.is_open(calendar, at(2026, 11, 22, 10, 0))  # Sunday


def test_midnight_spans_with_24_00():
    calendar = BusinessHours(
        name="Late",
        timezone="UTC",
        weekly={"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]},
    )
    # Mon 2026-11-23 23:00 + 2 h = Tue 01:00
    assert hours.add(calendar, at(2026, 11, 23, 23, 0), 2 * 3600) == at(2026, 11, 24, 1, 0)


def test_a_calendar_without_hours_is_an_error_not_a_hang():
    with pytest.raises(ValueError, match="no open hours"):
        hours.add(BusinessHours(name="Never", timezone="UTC", weekly={}), at(2026, 1, 1), 60)
