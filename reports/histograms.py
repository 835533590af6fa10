"""Duration histograms: fixed log-spaced buckets, and percentiles read from bucket counts.

Bucket 0 holds durations under one second; bucket i (1 <= i < LAST) holds [GROWTH**(i-1),
GROWTH**i) seconds, GROWTH = e**STEP, about 5.1 % wider each; the last bucket holds everything
from GROWTH**(LAST-1) seconds (about 180 days) up. A percentile read from the counts is placed
inside the bucket that holds the value of that rank (geometric interpolation by rank within the
bucket), so for durations of a second or more it is within one bucket width of the exact value:
relative error under RELATIVE_ERROR (5.2 %), under one second absolute below a second. Ranges
with fewer than settings.REPORTS_EXACT_PERCENTILE_LIMIT values are computed exactly instead.
"""

import math

from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Cast, Floor, Least, Ln

STEP = 0.05
GROWTH = math.exp(STEP)
RELATIVE_ERROR = round(GROWTH - 1, 3)
LAST = 330  # GROWTH ** 329 seconds is about 163 days


def bucket_of(seconds: float) -> int:
    """The bucket of a duration (the SQL expression below computes the same)."""
    if seconds < 1:
        return 0
    return min(math.floor(math.log(seconds) / STEP) + 1, LAST)


def bucket_expression(field: str):
    """bucket_of() in SQL (Django provides LN and FLOOR on SQLite too)."""
    return Case(
        When(**{f"{field}__lt": 1}, then=Value(0)),
        default=Cast(
            Least(Floor(Ln(F(field)) / Value(STEP)) + Value(1), Value(LAST)),
            IntegerField(),
        ),
        output_field=IntegerField(),
    )


def bounds(bucket: int) -> tuple[float, float]:
    if bucket <= 0:
        return 0.0, 1.0
    low = GROWTH ** (bucket - 1)
    if bucket >= LAST:
        return low, low * GROWTH
    return low, GROWTH**bucket


def percentile(counts: dict, fraction: float, total: int | None = None) -> float | None:
    """The value at `fraction` (0..1) of {bucket: count}, ranked like percentile_cont (rank
    fraction * (n - 1)), interpolated inside its bucket."""
    total = sum(counts.values()) if total is None else total
    if not total:
        return None
    rank = fraction * (total - 1)
    below = 0
    for bucket in sorted(counts):
        n = counts[bucket]
        if not n:
            continue
        if rank < below + n or below + n >= total:
            # The values of the bucket spread evenly by rank between its bounds.
            share = min(max((rank - below + 0.5) / n, 0.0), 1.0)
            low, high = bounds(bucket)
            if bucket == 0:
                return low + (high - low) * share
            return low * (high / low) ** share
        below += n
    return None


def summary(counts: dict) -> dict | None:
    """{"count", "median", "p90"} of {bucket: count}, or None when empty."""
    total = sum(counts.values())
    if not total:
        return None
    return {
        "count": total,
        "median": percentile(counts, 0.5, total),
        "p90": percentile(counts, 0.9, total),
    }
