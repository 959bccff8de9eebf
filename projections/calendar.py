"""Local calendar arithmetic for one patient time zone: midnights, dates and ISO weeks.

A local midnight is the first instant of a local date, returned in UTC. With `fold=0`
zoneinfo maps a wall-clock midnight that falls in a DST gap to the transition instant and
one that falls in an overlap to its earlier occurrence: in both cases the first instant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)


def require_aware(instant: datetime, name: str) -> datetime:
    """`instant` converted to UTC; a naive datetime is a programming error."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset")
    return instant.astimezone(UTC)


@lru_cache(maxsize=8192)
def week_monday(day: date) -> date:
    """The Monday that starts the ISO week holding `day`."""
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=8192)
def iso_week_label(day: date) -> str:
    """`YYYY-Www` of the ISO week holding `day` (the ISO year may differ from day.year)."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


class LocalCalendar:
    """Midnights and local dates in one IANA zone; midnights are cached per date."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self._midnights: dict[date, datetime] = {}

    def midnight(self, day: date) -> datetime:
        """The first instant of local `day`, in UTC."""
        cached = self._midnights.get(day)
        if cached is None:
            cached = datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)
            self._midnights[day] = cached
        return cached

    def local_date(self, instant: datetime) -> date:
        """The local date on which `instant` falls."""
        return instant.astimezone(self.zone).date()

    def first_midnight_at_or_after(self, instant: datetime) -> date:
        """The date whose midnight is the first one at or after `instant`."""
        day = self.local_date(instant)
        return day if self.midnight(day) >= instant else day + ONE_DAY

    def last_midnight_before(self, instant: datetime) -> date:
        """The date whose midnight is the last one strictly before `instant`."""
        day = self.local_date(instant)
        return day if self.midnight(day) < instant else day - ONE_DAY

    def last_midnight_at_or_before(self, instant: datetime) -> date:
        """The date whose midnight is the last one at or before `instant`."""
        return self.local_date(instant)
