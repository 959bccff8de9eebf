"""Exact summary statistics over grouped counts (value -> how many), rounded only at the
end like the journey view: Python's `round(x, digits)` of the nearest float."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from pydantic import BaseModel, ConfigDict

DAY_DIGITS = 2  # means and medians of days
SHARE_DIGITS = 4  # shares (0..1)


class DaysSummary(BaseModel):
    """Count, mean and median of whole days; mean and median null when count is 0 (all
    three null when the count is suppressed for the analyst role)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int | None
    mean_days: float | None
    median_days: float | None


def rounded(value: Fraction, digits: int) -> float:
    return round(value.numerator / value.denominator, digits)


def share(part: int, whole: int) -> float | None:
    """part / whole rounded to SHARE_DIGITS; null when whole is 0."""
    return rounded(Fraction(part, whole), SHARE_DIGITS) if whole else None


def median(histogram: Mapping[int, int]) -> Fraction | None:
    """The median of the multiset {value: count}: the middle value, or the mean of the two
    middle values for an even count."""
    total = sum(histogram.values())
    if total == 0:
        return None
    wanted = {(total - 1) // 2, total // 2}  # 0-based ranks of the middle value(s)
    picked: list[int] = []
    seen = 0
    for value in sorted(histogram):
        count = histogram[value]
        picked += [value for rank in wanted if seen <= rank < seen + count]
        seen += count
    return Fraction(sum(picked), len(picked))


def summarize_days(histogram: Mapping[int, int]) -> DaysSummary:
    count = sum(histogram.values())
    if count == 0:
        return DaysSummary(count=0, mean_days=None, median_days=None)
    mean = Fraction(sum(v * n for v, n in histogram.items()), count)
    middle = median(histogram)
    assert middle is not None
    return DaysSummary(
        count=count,
        mean_days=rounded(mean, DAY_DIGITS),
        median_days=rounded(middle, DAY_DIGITS),
    )
