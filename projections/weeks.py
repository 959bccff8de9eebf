"""ISO-week intensity: hours attended per local week against the levels' weekly ranges.

All arithmetic is exact (integer minutes, Fraction hours); rounding happens only in the
output view. Each date with a level contributes minimum/7 and maximum/7 of its level, for
the age group of the episode whose stay gives the date its level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Literal

from journey.catalog import Catalog, HoursRange
from projections.calendar import LocalCalendar, iso_week_label, week_monday
from projections.midnight_census import DayLevel
from projections.session_log import SessionState

WeekStatus = Literal["no_requirement", "below_minimum", "above_maximum", "within_range"]
DAYS_PER_WEEK = 7


@dataclass
class WeekSummary:
    """One ISO week with exact figures; `expected_*` None = no requirement."""

    monday: date
    attended_minutes: int = 0
    other_minutes: int = 0
    individual_sessions: int = 0
    level_days: dict[str, int] = field(default_factory=dict)
    expected_min_hours: Fraction | None = None
    expected_max_hours: Fraction | None = None
    complete: bool = False

    @property
    def label(self) -> str:
        return iso_week_label(self.monday)

    @property
    def attended_hours(self) -> Fraction:
        return Fraction(self.attended_minutes, 60)

    @property
    def other_hours(self) -> Fraction:
        return Fraction(self.other_minutes, 60)

    @property
    def status(self) -> WeekStatus:
        low, high = self.expected_min_hours, self.expected_max_hours
        if low is None and high is None:
            return "no_requirement"
        if low is not None and self.attended_hours < low:
            return "below_minimum"
        if high is not None and self.attended_hours >= high:
            return "above_maximum"
        return "within_range"


_Hours = int | Fraction
_Range = tuple[_Hours | None, _Hours | None]
_WEEK_OFFSETS = tuple(timedelta(days=i) for i in range(DAYS_PER_WEEK))


def _exact(value: float | None) -> _Hours | None:
    """A catalog figure as an exact number (an int when integral: faster sums)."""
    if value is None:
        return None
    exact = Fraction(str(value))
    return exact.numerator if exact.denominator == 1 else exact


class WeeklyRanges:
    """Exact weekly (minimum, maximum) hours per dated level, converted once per fold."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._ranges: dict[DayLevel, _Range] = {}
        self.order = {level_id: i for i, level_id in enumerate(catalog.levels)}

    def __getitem__(self, day: DayLevel) -> _Range:
        found = self._ranges.get(day)
        if found is None:
            level = self.catalog.levels.get(day.level)
            hours = level.hours.get(day.age_group) if level is not None else None
            hours = hours if hours is not None else HoursRange(None, None)
            found = self._ranges[day] = (_exact(hours.minimum), _exact(hours.maximum))
        return found


def apply_levels(week: WeekSummary, levels: Mapping[date, DayLevel], ranges: WeeklyRanges) -> None:
    """Fill level_days, expectations and completeness from the week's dated levels."""
    counts = Counter(levels[d] for d in _dates(week.monday) if d in levels)
    for day, n in sorted(
        counts.items(), key=lambda x: ranges.order.get(x[0].level, len(ranges.order))
    ):
        week.level_days[day.level] = week.level_days.get(day.level, 0) + n
    minimum: _Hours = 0
    maximum: _Hours = 0
    has_minimum, every_maximum = False, bool(counts)
    for day, n in counts.items():
        low, high = ranges[day]
        if low is not None:
            minimum, has_minimum = minimum + n * low, True
        if high is None:
            every_maximum = False
        else:
            maximum += n * high
    week.expected_min_hours = Fraction(minimum, DAYS_PER_WEEK) if has_minimum else None
    week.expected_max_hours = Fraction(maximum, DAYS_PER_WEEK) if every_maximum else None
    week.complete = sum(counts.values()) == DAYS_PER_WEEK


def _dates(monday: date) -> list[date]:
    return [monday + offset for offset in _WEEK_OFFSETS]


def _add_session(week: WeekSummary, session: SessionState, catalog: Catalog) -> None:
    approach = catalog.approaches.get(session.approach)
    if approach is not None and approach.counts_toward_intensity:
        week.attended_minutes += session.duration_minutes
    else:
        week.other_minutes += session.duration_minutes
    if session.format == "individual":
        week.individual_sessions += 1


def summarize_weeks(
    levels: Mapping[date, DayLevel],
    sessions: Iterable[SessionState],
    calendar: LocalCalendar,
    catalog: Catalog,
) -> list[WeekSummary]:
    """Weeks holding a dated level or an attended session, ascending.

    `sessions` must already be limited to those started at or before T; voided and
    non-attended ones are skipped here. An approach missing from the catalog counts as
    not toward intensity (other_hours).
    """
    weeks = {monday: WeekSummary(monday) for monday in {week_monday(day) for day in levels}}
    for session in sessions:
        if session.attended:
            monday = week_monday(calendar.local_date(session.occurred_at))
            week = weeks.get(monday)
            if week is None:
                week = weeks[monday] = WeekSummary(monday)
            _add_session(week, session, catalog)
    ranges = WeeklyRanges(catalog)
    for week in weeks.values():
        apply_levels(week, levels, ranges)
    return [weeks[m] for m in sorted(weeks)]
