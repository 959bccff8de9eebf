"""A deliberately naive, independent reading of SPEC section 6, for differential tests.

It shares no code with `projections/`: brute force, date by date, floats where a careful
reader of the SPEC would use them. Slow and obvious on purpose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from journey.catalog import default_catalog
from journey.events import EventEnvelope
from tests.unit import spec_oracle_care as care

CLINICAL = {"PatientAdmitted", "LevelOfCareChanged", "PatientDischarged"}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)


def _episodes(events: list[EventEnvelope], as_of: datetime) -> list[dict[str, Any]]:
    episodes: list[dict[str, Any]] = []
    for e in events:
        if e.type not in CLINICAL or e.occurred_at > as_of:
            continue
        p: Any = e.payload
        if e.type == "PatientAdmitted":
            stay = {"level": p.level, "start": e.occurred_at, "end": None}
            episodes.append(
                {
                    "admitted": e.occurred_at,
                    "discharged": None,
                    "reason": None,
                    "age_group": p.age_group,
                    "stays": [stay],
                }
            )
        elif e.type == "LevelOfCareChanged":
            episodes[-1]["stays"][-1]["end"] = e.occurred_at
            episodes[-1]["stays"].append({"level": p.to_level, "start": e.occurred_at, "end": None})
        else:
            episodes[-1]["stays"][-1]["end"] = e.occurred_at
            episodes[-1]["discharged"] = e.occurred_at
            episodes[-1]["reason"] = p.reason
    return episodes


def _stay_days(stay: dict[str, Any], tz: ZoneInfo, as_of: datetime) -> list[date]:
    counted = []
    d = stay["start"].astimezone(tz).date() - timedelta(days=1)
    last = (stay["end"] or as_of).astimezone(tz).date() + timedelta(days=1)
    while d <= last:
        c = _midnight(d, tz)
        if stay["start"] <= c and (stay["end"] is None or c < stay["end"]) and c <= as_of:
            counted.append(d)
        d += timedelta(days=1)
    return counted


def _sessions(events: list[EventEnvelope]) -> dict[str, dict[str, Any]]:
    sessions: dict[str, dict[str, Any]] = {}
    for e in events:
        p: Any = e.payload
        if e.type == "SessionRecorded":
            sessions[p.session_id] = {
                **p.model_dump(),
                "occurred_at": e.occurred_at,
                "voided": False,
            }
        elif e.type == "SessionCorrected":
            changes = p.model_dump(exclude_none=True, exclude={"type", "session_id", "reason"})
            if "session_occurred_at" in changes:
                changes["occurred_at"] = changes.pop("session_occurred_at")
            sessions[p.session_id].update(changes)
        elif e.type == "SessionEnteredInError":
            sessions[p.session_id]["voided"] = True
    return sessions


def oracle(
    events: list[EventEnvelope],
    as_of: datetime,
    known_at: datetime | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    catalog = default_catalog()
    events = [e for e in events if known_at is None or e.recorded_at <= known_at]
    first = next(e for e in events if e.type == "PatientAdmitted")
    tz = ZoneInfo(first.payload.timezone)  # type: ignore[union-attr]
    episodes = _episodes(events, as_of)
    by_level = dict.fromkeys(catalog.levels, 0)
    date_level: dict[date, tuple[str, str]] = {}
    out_episodes = []
    for n, ep in enumerate(episodes, start=1):
        stays = []
        for stay in ep["stays"]:
            days = _stay_days(stay, tz, as_of)
            by_level[stay["level"]] += len(days)
            for d in days:
                date_level[d - timedelta(days=1)] = (stay["level"], ep["age_group"])
            stays.append(
                {
                    "level": stay["level"],
                    "started_at": _iso(stay["start"]),
                    "ended_at": _iso(stay["end"]),
                    "days": len(days),
                }
            )
        ep["days"] = sum(s["days"] for s in stays)
        out_episodes.append(
            {
                "number": n,
                "admitted_at": _iso(ep["admitted"]),
                "discharged_at": _iso(ep["discharged"]),
                "discharge_reason": ep["reason"],
                "days": ep["days"],
                "stays": stays,
            }
        )
    chain = episodes[-1:] if episodes else []
    for prev, nxt in zip(reversed(episodes[:-1]), reversed(episodes[1:]), strict=True):
        gap = nxt["admitted"].astimezone(tz).date() - prev["discharged"].astimezone(tz).date()
        if gap.days > 7:
            break
        chain.append(prev)
    continuous = sum(ep["days"] for ep in chain)
    sessions = [s for s in _sessions(events).values() if s["occurred_at"] <= as_of]
    latest = episodes[-1] if episodes else None
    is_open = latest is not None and latest["discharged"] is None
    status = "not_admitted" if latest is None else ("active" if is_open else "discharged")
    counts = {
        k: sum(1 for s in sessions if not s["voided"] and s["status"] == k)
        for k in ("attended", "no_show", "cancelled")
    }
    seen = counts["attended"] + counts["no_show"]
    plan = care.treatment_plan(events, as_of, episodes, tz)
    return {
        "patient_id": first.patient_id,
        "as_of": _iso(as_of),
        "known_at": _iso(known_at),
        "as_of_in_future": now is not None and as_of > now,
        "status": status,
        "current_level": latest["stays"][-1]["level"] if is_open else None,  # type: ignore[index]
        "current_stay_started_at": _iso(latest["stays"][-1]["start"]) if is_open else None,  # type: ignore[index]
        "age_group": latest["age_group"] if latest else first.payload.age_group,  # type: ignore[union-attr]
        "timezone": tz.key,
        "episodes": out_episodes,
        "days_by_level": by_level,
        "days_in_care": sum(by_level.values()),
        "continuous_care_days": continuous,
        "meets_90_day_benchmark": continuous >= 90,
        "primary_therapist": care.primary_therapist(events, as_of, _episodes),
        "treatment_plan": plan,
        "plan_overdue": care.plan_overdue(plan, episodes, as_of, tz),
        "referrals": care.referrals(events, as_of, tz),
        "weeks": _weeks(
            date_level, sessions, tz, lambda s: care.primary_therapist(events, s, _episodes)
        ),
        "sessions": {
            **counts,
            "voided": sum(1 for s in sessions if s["voided"]),
            "attendance_rate": round(counts["attended"] / seen, 2) if seen else None,
        },
    }


def _weeks(
    date_level: dict[date, tuple[str, str]],
    sessions: list[dict[str, Any]],
    tz: ZoneInfo,
    primary_at: Callable[[datetime], str | None],
) -> list[dict[str, Any]]:
    catalog = default_catalog()
    attended = [s for s in sessions if s["status"] == "attended" and not s["voided"]]
    mondays = {d - timedelta(days=d.weekday()) for d in date_level}
    for s in attended:
        d = s["occurred_at"].astimezone(tz).date()
        mondays.add(d - timedelta(days=d.weekday()))
    weeks = []
    for monday in sorted(mondays):
        dates = [monday + timedelta(days=i) for i in range(7)]
        mine = [s for s in attended if s["occurred_at"].astimezone(tz).date() in dates]
        counts = [s for s in mine if catalog.approaches[s["approach"]].counts_toward_intensity]
        hours = sum(s["duration_minutes"] for s in counts) / 60
        other = sum(s["duration_minutes"] for s in mine if s not in counts) / 60
        levelled = [date_level[d] for d in dates if d in date_level]
        ranges = [catalog.levels[lv].hours[group] for lv, group in levelled]
        mins = [r.minimum / 7 for r in ranges if r.minimum is not None]
        exp_min = sum(mins) if mins else None
        exp_max = (
            sum(r.maximum / 7 for r in ranges)
            if ranges and all(r.maximum is not None for r in ranges)
            else None
        )  # type: ignore[operator]
        exclusive = any(not catalog.levels[lv].max_inclusive for lv, _ in levelled)
        if exp_min is None and exp_max is None:
            status = "no_requirement"
        elif exp_min is not None and hours < exp_min - 1e-9:
            status = "below_minimum"
        elif exp_max is not None and (
            hours > exp_max + 1e-9 or (abs(hours - exp_max) <= 1e-9 and exclusive)
        ):
            status = "above_maximum"
        else:
            status = "within_range"
        individual = [s for s in mine if s["format"] == "individual"]
        with_primary = sum(
            1
            for s in individual
            if s["clinician_id"] is not None and s["clinician_id"] == primary_at(s["occurred_at"])
        )
        evidence = sum(
            s["duration_minutes"]
            for s in counts
            if catalog.approaches[s["approach"]].evidence_based
        )
        level_days: dict[str, int] = {}
        for lv in catalog.levels:
            n = sum(1 for level, _ in levelled if level == lv)
            if n:
                level_days[lv] = n
        iso = monday.isocalendar()
        weeks.append(
            {
                "week": f"{iso.year}-W{iso.week:02d}",
                "start_date": monday.isoformat(),
                "attended_hours": round(hours, 2),
                "other_hours": round(other, 2),
                "evidence_based_hours": round(evidence / 60, 2),
                "individual_sessions": len(individual),
                "individual_with_primary": with_primary,
                "weekly_individual_met": None if len(levelled) < 4 else with_primary >= 1,
                "level_days": level_days,
                "expected_min_hours": None if exp_min is None else round(exp_min, 2),
                "expected_max_hours": None if exp_max is None else round(exp_max, 2),
                "status": status,
                "complete": len(levelled) == 7,
            }
        )
    return weeks
