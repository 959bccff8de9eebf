"""ISO-week intensity: hours attended per local week against the levels' weekly ranges.

All arithmetic is exact (integer minutes, Fraction hours); rounding happens only in the
output view. Each date with a level contributes minimum/7 and maximum/7 of its level, for
the age group of the episode whose stay gives the date its level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Literal

from journey.catalog import Catalog, HoursRange
from projections.calendar import LocalCalendar, iso_week_label, week_monday
from projections.midnight_census import DayLevel
from projections.session_log import SessionState

WeekStatus = Literal["no_requirement", "below_minimum", "above_maximum", "within_range"]
DAYS_PER_WEEK = 7
MINUTES_PER_HOUR = 60
JUDGED_WEEK_DAYS = 4  # fewer dated days: a week cut by admission or discharge is not judged
PrimaryAt = Callable[[datetime], str | None]


@dataclass
class WeekSummary:
    """One ISO week with exact figures; `expected_*` None = no requirement.

    `max_exclusive`: some dated level of the week has an exclusive maximum (catalog
    `max_inclusive` false), so attending exactly `expected_max_hours` is above it.
    """

    monday: date
    attended_minutes: int = 0
    other_minutes: int = 0
    evidence_based_minutes: int = 0
    individual_sessions: int = 0
    individual_with_primary: int = 0
    level_days: dict[str, int] = field(default_factory=dict)
    expected_min_hours: Fraction | None = None
    expected_max_hours: Fraction | None = None
    max_exclusive: bool = False
    dated_days: int = 0
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
    def evidence_based_hours(self) -> Fraction:
        return Fraction(self.evidence_based_minutes, 60)

    @property
    def weekly_individual_met(self) -> bool | None:
        """At least one individual session with the primary therapist; None (not judged)
        when fewer than 4 of the week's dates have a level."""
        if self.dated_days < JUDGED_WEEK_DAYS:
            return None
        return self.individual_with_primary >= 1

    @property
    def status(self) -> WeekStatus:
        """Exact comparisons of attended minutes / 60 with the expectations, done in
        integers (minutes * q against p * 60 for an expectation p/q): no Fraction built."""
        low, high = self.expected_min_hours, self.expected_max_hours
        if low is None and high is None:
            return "no_requirement"
        minutes = self.attended_minutes
        if low is not None and minutes * low.denominator < low.numerator * MINUTES_PER_HOUR:
            return "below_minimum"
        if high is not None:
            attended, maximum = minutes * high.denominator, high.numerator * MINUTES_PER_HOUR
            if attended > maximum or (attended == maximum and self.max_exclusive):
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
        self.exclusive = {lv.id for lv in catalog.levels.values() if not lv.max_inclusive}

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
    _apply_counts(week, Counter(levels[d] for d in _dates(week.monday) if d in levels), ranges)


_Counts = Mapping[DayLevel, int]  # days per dated level of one week, by first date


def _apply_counts(week: WeekSummary, counts: _Counts, ranges: WeeklyRanges) -> None:
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
    week.max_exclusive = any(day.level in ranges.exclusive for day in counts)
    week.dated_days = sum(counts.values())
    week.complete = week.dated_days == DAYS_PER_WEEK


def _week_counts(levels: Mapping[date, DayLevel]) -> dict[date, dict[DayLevel, int]]:
    """The days per dated level of every week (by Monday) in one pass over the dates,
    ascending, so each week's levels come in the order `apply_levels` counts them."""
    weeks: dict[date, dict[DayLevel, int]] = {}
    for day in sorted(levels):
        monday = week_monday(day)
        counts = weeks.get(monday)
        if counts is None:
            counts = weeks[monday] = {}
        value = levels[day]
        counts[value] = counts.get(value, 0) + 1
    return weeks


class _LevelFill:
    """`apply_levels` of many weeks: each distinct mix of dated levels (most weeks of a
    long stay have the same seven) is worked out once and copied."""

    def __init__(self, ranges: WeeklyRanges) -> None:
        self.ranges = ranges
        self._done: dict[tuple[tuple[DayLevel, int], ...], WeekSummary] = {}

    def __call__(self, week: WeekSummary, counts: _Counts) -> None:
        key = tuple(counts.items())
        done = self._done.get(key)
        if done is None:
            done = self._done[key] = WeekSummary(week.monday)
            _apply_counts(done, counts, self.ranges)
        week.level_days = dict(done.level_days)
        week.expected_min_hours, week.expected_max_hours = (
            done.expected_min_hours,
            done.expected_max_hours,
        )
        week.max_exclusive, week.dated_days = done.max_exclusive, done.dated_days
        week.complete = done.complete


def _dates(monday: date) -> list[date]:
    return [monday + offset for offset in _WEEK_OFFSETS]


def _add_session(
    week: WeekSummary, session: SessionState, catalog: Catalog, primary_at: PrimaryAt | None
) -> None:
    approach = catalog.approaches.get(session.approach)
    if approach is not None and approach.counts_toward_intensity:
        week.attended_minutes += session.duration_minutes
        if approach.evidence_based:
            week.evidence_based_minutes += session.duration_minutes
    else:
        week.other_minutes += session.duration_minutes
    if session.format == "individual":
        week.individual_sessions += 1
        clinician = session.clinician_id
        if clinician is not None and primary_at is not None:
            week.individual_with_primary += clinician == primary_at(session.occurred_at)


def summarize_weeks(
    levels: Mapping[date, DayLevel],
    sessions: Iterable[SessionState],
    calendar: LocalCalendar,
    catalog: Catalog,
    primary_at: PrimaryAt | None = None,
) -> list[WeekSummary]:
    """Weeks holding a dated level or an attended session, ascending.

    `sessions` must already be limited to those started at or before T; voided and
    non-attended ones are skipped here. An approach missing from the catalog counts as
    not toward intensity (other_hours). `primary_at` gives the primary therapist in force
    at a session's start (None: no session is with the primary therapist).
    """
    dated = _week_counts(levels)
    weeks = {monday: WeekSummary(monday) for monday in dated}
    for session in sessions:
        if session.attended:
            monday = week_monday(calendar.local_date(session.occurred_at))
            week = weeks.get(monday)
            if week is None:
                week = weeks[monday] = WeekSummary(monday)
            _add_session(week, session, catalog, primary_at)
    fill = _LevelFill(WeeklyRanges(catalog))
    for monday, week in weeks.items():
        fill(week, dated.get(monday, {}))
    return [weeks[m] for m in sorted(weeks)]
