// The journey timeline: one lane per level with its stays as coloured bands, a lane of
// sessions (marks sized by duration, styled by status, as corrected) and a lane of
// corrections and voids. The same lanes, colours and marks as the auditors' report
// (interfaces/web/timeline.py), from the same palette.json, journey and history.

import { draw, levelColour, table } from "./charts.js";

const DAY = 86400000;
const ms = (text) => Date.parse(text);
const day = (text) => (text ? text.slice(0, 10) : "open");

// Every recorded session with its corrections applied and its void noted.
export function sessionsOf(events) {
  const found = new Map();
  for (const e of events) {
    const p = e.payload;
    const s = found.get(p.session_id);
    if (p.type === "SessionRecorded") {
      found.set(p.session_id, {
        id: p.session_id, at: e.occurred_at, minutes: p.duration_minutes, status: p.status,
        approach: p.approach, format: p.format, voided: false, amendments: [],
      });
    } else if (p.type === "SessionCorrected" && s) {
      s.at = p.session_occurred_at || s.at;
      s.minutes = p.duration_minutes || s.minutes;
      s.status = p.status || s.status;
      s.approach = p.approach || s.approach;
      s.format = p.format || s.format;
      s.amendments.push(`corrected: ${p.reason}`);
    } else if (p.type === "SessionEnteredInError" && s) {
      s.voided = true;
      s.amendments.push(`void: ${p.reason}`);
    }
  }
  return [...found.values()].sort((a, b) => ms(a.at) - ms(b.at));
}

// The shown period: from the day before the first admission to T, or for a discharged
// patient to a week after the last discharge when that comes first.
export function range(view) {
  const start = ms(view.episodes[0].admitted_at) - DAY;
  let end = ms(view.as_of);
  const last = view.episodes[view.episodes.length - 1];
  if (view.status === "discharged" && last.discharged_at) end = Math.min(end, ms(last.discharged_at) + 7 * DAY);
  return [start, end];
}

export const radius = (minutes) => 2 + Math.sqrt(Math.max(minutes, 1)) / 2.5;

function sessionPoint(s, pal) {
  const colour = s.voided ? pal.sessions.voided : pal.sessions[s.status] || pal.sessions.cancelled;
  const filled = s.status === "attended" && !s.voided;
  return {
    value: [ms(s.at), "sessions"], name: s.id,
    symbol: "circle", symbolSize: 2 * radius(s.minutes),
    itemStyle: {
      color: filled ? colour : "rgba(0,0,0,0)", opacity: filled ? 0.55 : 1, borderColor: colour,
      borderWidth: 1.5, borderType: s.status === "cancelled" || s.voided ? "dashed" : "solid",
    },
    tip: `${s.id} ${day(s.at)}: ${s.approach}, ${s.format}, ${s.minutes} min, ${s.voided ? "voided" : s.status}`,
  };
}

function amendmentPoint(s, pal) {
  return {
    value: [ms(s.at), "amendments"], name: s.id,
    symbol: s.voided ? "path://M0,0L10,10M10,0L0,10M1,0L10,9M0,1L9,10" : "triangle",
    symbolSize: 11,
    itemStyle: s.voided
      ? { color: pal.amendments.void, borderColor: pal.amendments.void, borderWidth: 2 }
      : { color: pal.amendments.correction },
    tip: `${s.id}: ${s.amendments.join("; ")}`,
  };
}

function bands(view, lanes, pal) {
  return view.episodes.flatMap((e) => e.stays.map((s) => ({
    value: [lanes.indexOf(s.level), ms(s.started_at), ms(s.ended_at || view.as_of), s.days],
    itemStyle: { color: levelColour(pal, s.level) },
    tip: `${s.level}: ${day(s.started_at)} to ${day(s.ended_at)} (${s.days} days, episode ${e.number})`,
  })));
}

function renderBand(params, api) {
  const lane = api.value(0);
  const a = api.coord([api.value(1), lane]);
  const b = api.coord([api.value(2), lane]);
  const height = api.size([0, 1])[1] * 0.7;
  const box = params.coordSys;
  const shape = window.echarts.graphic.clipRectByRect(
    { x: a[0], y: a[1] - height / 2, width: Math.max(b[0] - a[0], 1.5), height },
    { x: box.x, y: box.y, width: box.width, height: box.height },
  );
  return shape && { type: "rect", shape, style: api.style() };
}

export function drawTimeline(view, events, pal) {
  const lanes = [...Object.keys(view.days_by_level), "sessions", "amendments"];
  const [start, end] = range(view);
  const sessions = events ? sessionsOf(events).filter((s) => ms(s.at) <= ms(view.as_of)) : [];
  const amended = sessions.filter((s) => s.amendments.length);
  const stays = view.episodes.flatMap((e) => e.stays);
  const summary = `Timeline of patient ${view.patient_id} from ${new Date(start).toISOString().slice(0, 10)} to ${new Date(end).toISOString().slice(0, 10)}: ` +
    `${stays.length} stays in ${view.episodes.length} episodes, ` +
    (events ? `${sessions.length} sessions, ${amended.length} corrected or voided.` : "sessions, corrections and voids not shown (they need the history.read permission).");
  draw("timeline-chart", {
    grid: { left: 90, right: 24, top: 12, bottom: 70 },
    tooltip: { trigger: "item", formatter: (p) => p.data.tip },
    dataZoom: [{ type: "slider", xAxisIndex: 0, bottom: 10, filterMode: "weakFilter" }, { type: "inside", xAxisIndex: 0, filterMode: "weakFilter" }],
    xAxis: { type: "time", min: start, max: end },
    yAxis: { type: "category", data: lanes, inverse: true, splitLine: { show: true } },
    series: [
      { type: "custom", name: "stays", renderItem: renderBand, encode: { x: [1, 2], y: 0 }, data: bands(view, lanes, pal) },
      { type: "scatter", name: "sessions", data: sessions.map((s) => sessionPoint(s, pal)) },
      { type: "scatter", name: "amendments", data: amended.map((s) => amendmentPoint(s, pal)) },
    ],
  }, summary);
  document.getElementById("timeline-summary").textContent = summary;
  table("timeline-stays", "Stays", ["episode", "level", "started", "ended", "days"],
    view.episodes.flatMap((e) => e.stays.map((s) => [e.number, s.level, s.started_at, s.ended_at || "open", s.days])));
  table("timeline-sessions", events ? "Sessions (as corrected)" : "Sessions need the history.read permission",
    ["session", "started", "approach", "minutes", "status", "amendments"],
    sessions.map((s) => [s.id, s.at, s.approach, s.minutes, s.voided ? "voided" : s.status, s.amendments.join("; ") || "–"]));
  legend(pal);
}

function legend(pal) {
  const box = document.getElementById("timeline-legend");
  const items = Object.entries(pal.levels).map(([level, colour]) => {
    const span = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.className = "sw";
    swatch.style.background = colour;
    span.append(swatch, level);
    return span;
  });
  const note = document.createElement("span");
  note.textContent = "| sessions: filled attended, red ring no-show, dashed cancelled or voided; size = duration | amendments: triangle correction, cross void";
  box.replaceChildren(...items, note);
}
