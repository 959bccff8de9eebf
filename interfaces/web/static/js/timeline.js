// The journey timeline: one lane per level with its stays as coloured bands, a lane of
// sessions (marks sized by duration, styled by status, as corrected) and a lane of
// corrections and voids. The same lanes, colours and marks as the auditors' report
// (audit/timeline_svg.py), from the same palette.json, journey and session log
// (GET /v1/patients/{id}/sessions: the server folds corrections and voids once; this file
// only draws the sessions it gives).

import { draw, levelColour, table } from "./charts.js";

const DAY = 86400000;
const ms = (text) => Date.parse(text);
const day = (text) => (text ? text.slice(0, 10) : "open");

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

// A session's mark text, as the report's SVG writes it (audit/timeline_svg.session_label).
const sessionLabel = (s) => `${s.session_id} ${s.started_local.slice(0, 16).replace("T", " ")}: ${s.format} ${s.approach}, ${s.duration_minutes} min, ${s.shown_status}`;

function sessionPoint(s, pal) {
  const colour = s.voided ? pal.sessions.voided : pal.sessions[s.status] || pal.sessions.cancelled;
  const filled = s.status === "attended" && !s.voided;
  return {
    value: [ms(s.started_at), "sessions"], name: s.session_id,
    symbol: "circle", symbolSize: 2 * radius(s.duration_minutes),
    itemStyle: {
      color: filled ? colour : "rgba(0,0,0,0)", opacity: filled ? 0.55 : 1, borderColor: colour,
      borderWidth: 1.5, borderType: s.status === "cancelled" || s.voided ? "dashed" : "solid",
    },
    tip: sessionLabel(s),
  };
}

function amendmentPoint(s, pal) {
  return {
    value: [ms(s.started_at), "amendments"], name: s.session_id,
    symbol: s.voided ? "path://M0,0L10,10M10,0L0,10M1,0L10,9M0,1L9,10" : "triangle",
    symbolSize: 11,
    itemStyle: s.voided
      ? { color: pal.amendments.void, borderColor: pal.amendments.void, borderWidth: 2 }
      : { color: pal.amendments.correction },
    tip: `${s.session_id}: ${s.amendments.join("; ")}`,
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

// `log` is the answer of GET /v1/patients/{id}/sessions, or null without history.read.
export function drawTimeline(view, log, pal) {
  const lanes = [...Object.keys(view.days_by_level), "sessions", "amendments"];
  const [start, end] = range(view);
  const sessions = log ? log.sessions : [];
  const amended = sessions.filter((s) => s.amendments.length);
  const stays = view.episodes.flatMap((e) => e.stays);
  const summary = `Timeline of patient ${view.patient_id} from ${new Date(start).toISOString().slice(0, 10)} to ${new Date(end).toISOString().slice(0, 10)}: ` +
    `${stays.length} stays in ${view.episodes.length} episodes, ` +
    (log ? `${sessions.length} sessions, ${amended.length} corrected or voided.` : "sessions, corrections and voids not shown (they need the history.read permission).");
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
  const started = log ? `started (local time, ${log.timezone})` : "started";
  table("timeline-sessions", log ? "Sessions (as corrected)" : "Sessions need the history.read permission",
    ["session", started, "format", "approach", "minutes", "status", "amendments"],
    sessions.map((s) => [s.session_id, s.started_local, s.format, s.approach, s.duration_minutes, s.shown_status, s.amendments.join("; ") || "-"]));
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
