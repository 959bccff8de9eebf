"""What opening and closing a stay adds to the counter tables (`counters.py`):

- `rm_census_deltas`: +1 at the stay's first census date, -1 after its last one, so the
  midnight census of local date D is the sum of the deltas dated D or earlier;
- `rm_stay_lengths`: a closed stay's days, by the UTC month of its end;
- `rm_stay_days`: stays started and stays ended per UTC date and level (census at T);
- `rm_episode_lengths`: a discharged episode's days, by the UTC month of the discharge;
- `rm_week_spans`: +1 at the first Monday of the stay's interior weeks (the ISO weeks all
  seven dates of which the stay gives its level) and -1 after the last one, for ambulatory
  levels: the number of interior weeks started by a Monday M is the sum of the deltas up
  to M, so no row per week is needed (`weeks.py` keeps the weeks with sessions).

An open stay has no end yet: its census and its interior weeks run on until it closes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from journey.catalog import default_catalog
from projections.calendar import ONE_DAY, LocalCalendar, week_monday
from projections.read_models import care_weeks, counters
from projections.read_models.patients import PatientRow
from projections.read_models.unit import ReadModelUnit


def census_first_date(calendar: LocalCalendar, started_at: datetime) -> date:
    """The first local date a stay starting at `started_at` gives its level to (its
    ending midnight is the first one at or after the start)."""
    return calendar.first_midnight_at_or_after(started_at) - ONE_DAY


def census_last_date(calendar: LocalCalendar, ended_at: datetime) -> date:
    """The last local date a stay ending at `ended_at` gives its level to."""
    return calendar.last_midnight_before(ended_at) - ONE_DAY


def ambulatory(level: str) -> bool:
    found = default_catalog().levels.get(level)
    return found is not None and found.ambulatory


def month_of(instant: datetime) -> date:
    """The first date of the UTC month of `instant`: the bucket of the length tables."""
    utc = instant.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def first_interior_monday(first: date) -> date:
    """The first Monday M with M >= first: the first week all of whose dates a stay
    starting its census on `first` can cover."""
    return first if first.weekday() == 0 else week_monday(first) + 7 * ONE_DAY


def stay_opened(unit: ReadModelUnit, patient: PatientRow, level: str, first: date) -> None:
    counters.add(unit, "rm_census_deltas", (patient.timezone, first, level), (1,))
    if patient.current_stay_started_at is not None:  # always set for the stay just opened
        day = patient.current_stay_started_at.astimezone(UTC).date()
        counters.add(unit, "rm_stay_days", (day, level), (1, 0))
    care_weeks.span_opened(unit, patient.timezone, level, first_interior_monday(first))
    if ambulatory(level):
        span = (patient.timezone, first_interior_monday(first), level, patient.age_group)
        counters.add(unit, "rm_week_spans", span, (1,))


def stay_closed(
    unit: ReadModelUnit, patient: PatientRow, level: str, *, dates: tuple[date, date],
    ended: datetime, days: int,
) -> None:  # fmt: skip
    """The stay at `level` that gave its level to the dates `first..last` (none when last
    < first) ended at `ended` after `days` counted midnights."""
    first, last = dates
    zone, age_group = patient.timezone, patient.age_group
    counters.add(unit, "rm_census_deltas", (zone, max(last + ONE_DAY, first), level), (-1,))
    counters.add(unit, "rm_stay_lengths", (month_of(ended), level, days), (1,))
    counters.add(unit, "rm_stay_days", (ended.astimezone(UTC).date(), level), (0, 1))
    care_stop = max(first_interior_monday(first), week_monday(last + ONE_DAY))
    care_weeks.span_closed(unit, zone, level, care_stop)
    if ambulatory(level):
        stop = max(first_interior_monday(first), week_monday(last + ONE_DAY))
        counters.add(unit, "rm_week_spans", (zone, stop, level, age_group), (-1,))


def episode_discharged(unit: ReadModelUnit, reason: str, discharged: datetime, days: int) -> None:
    counters.add(unit, "rm_episode_lengths", (month_of(discharged), reason, days), (1,))
