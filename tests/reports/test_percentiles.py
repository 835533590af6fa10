"""The Python percentile (SQLite) interpolates exactly like PostgreSQL's percentile_cont."""

import random

import pytest
from django.db import connection

from reports.selectors import percentile_cont


def test_python_percentile_interpolates_between_neighbours():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7.0], 0.9) == 7.0
    assert percentile_cont([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile_cont([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_python_and_postgresql_agree():
    rng = random.Random(9)
    for size in (1, 2, 5, 10, 101):
        values = sorted(rng.uniform(0, 100_000) for _ in range(size))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
                "percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float8[]) v",
                [values],
            )
            median, p90 = cursor.fetchone()
        assert percentile_cont(values, 0.5) == pytest.approx(median)
        assert percentile_cont(values, 0.9) == pytest.approx(p90)
