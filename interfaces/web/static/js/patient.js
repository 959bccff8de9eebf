// One patient's journey: fetches GET /v1/patients/{id}/journey?as_of=&known_at= and
// /history?known_at= (both recorded in the access trail) and draws them.

import { ApiError, clearError, getJson, readQuery, setupKeyForm, setupPatientForm, showError, writeQuery } from "./api.js";
import { draw, levelColour, num, palette, pct, setText, setupTableToggles, table } from "./charts.js";
import { drawTimeline } from "./timeline.js";

const patientId = decodeURIComponent(window.location.pathname.split("/")[2] || "");
const BENCHMARK = 90;
const STATUS_LABEL = { below_minimum: "below minimum", within_range: "within range", above_maximum: "above maximum", no_requirement: "no requirement" };

// A datetime-local value (read as UTC) as an ISO instant with its offset.
const instant = (local) => (local ? `${local.length === 16 ? `${local}:00` : local}+00:00` : null);

function facts(view) {
  const items = [
    ["status", view.status], ["current level", view.current_level || "–"],
    ["current stay since", view.current_stay_started_at || "–"], ["age group", view.age_group],
    ["time zone", view.timezone], ["days in care", view.days_in_care],
    ["continuous care days", view.continuous_care_days],
    ["90-day benchmark", view.meets_90_day_benchmark ? "met" : "not met"],
  ];
  const list = document.getElementById("facts");
  list.replaceChildren(...items.map(([term, value]) => {
    const div = document.createElement("div");
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = String(value);
    dd.dataset.fact = term;
    div.append(dt, dd);
    return div;
  }));
}

function weeks(view, pal) {
  const w = view.weeks;
  const counts = {};
  w.forEach((x) => { counts[x.status] = (counts[x.status] || 0) + 1; });
  const summary = `${w.length} weeks: ` + Object.entries(counts).map(([s, n]) => `${n} ${STATUS_LABEL[s]}`).join(", ") + ".";
  setText("weeks-summary", summary);
  draw("weeks-chart", {
    grid: { left: 56, right: 16, top: 40, bottom: 70, containLabel: true },
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: ["attended hours", "expected minimum", "expected maximum"] },
    dataZoom: [{ type: "slider", bottom: 8 }],
    xAxis: { type: "category", data: w.map((x) => x.week) },
    yAxis: { type: "value", name: "hours" },
    series: [
      { name: "attended hours", type: "bar", color: "#4a4a4a",
        data: w.map((x) => ({ value: x.attended_hours, itemStyle: { color: pal.status[x.status] } })) },
      { name: "expected minimum", type: "line", step: "middle", symbol: "none", color: "#1a1a1a", lineStyle: { type: "dashed" }, data: w.map((x) => x.expected_min_hours) },
      { name: "expected maximum", type: "line", step: "middle", symbol: "none", color: "#6a3d9a", data: w.map((x) => x.expected_max_hours) },
    ],
  }, summary + " Bars are attended hours coloured by status; lines the prorated minimum and maximum.");
  statusLegend(pal);
  table("weeks-table", "Hours per ISO week", ["week", "starts", "attended hours", "other hours", "individual sessions", "expected minimum", "expected maximum", "status", "complete", "levels"],
    w.map((x) => [x.week, x.start_date, x.attended_hours, x.other_hours, x.individual_sessions, num(x.expected_min_hours), num(x.expected_max_hours),
      STATUS_LABEL[x.status], x.complete ? "yes" : "no", Object.entries(x.level_days).map(([l, d]) => `${l} ${d}`).join(", ")]));
}

function statusLegend(pal) {
  const items = Object.entries(STATUS_LABEL).map(([status, label]) => {
    const span = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.className = "sw";
    swatch.style.background = pal.status[status];
    span.append(swatch, label);
    return span;
  });
  document.getElementById("weeks-legend").replaceChildren(...items);
}

function days(view, pal) {
  const levels = Object.keys(view.days_by_level);
  const summary = `${view.days_in_care} days in care: ` + levels.map((l) => `${l} ${view.days_by_level[l]}`).join(", ") + ".";
  setText("days-summary", summary);
  draw("days-chart", {
    grid: { left: 40, right: 16, top: 24, bottom: 30, containLabel: true },
    xAxis: { type: "category", data: levels },
    yAxis: { type: "value", name: "days", minInterval: 1 },
    series: [{ type: "bar", label: { show: true, position: "top" },
      data: levels.map((l) => ({ value: view.days_by_level[l], itemStyle: { color: levelColour(pal, l) } })) }],
  }, summary);
  table("days-table", "Days (midnight census) per level", ["level", "days"], [...levels.map((l) => [l, view.days_by_level[l]]), ["all levels", view.days_in_care]]);
}

function continuity(view) {
  const d = view.continuous_care_days;
  setText("continuity-summary", `${d} of ${BENCHMARK} days of continuous care: benchmark ${view.meets_90_day_benchmark ? "met" : "not met"}.`);
  const meter = document.getElementById("continuity-meter");
  meter.setAttribute("aria-valuenow", String(Math.min(d, BENCHMARK)));
  meter.setAttribute("aria-valuetext", `${d} days`);
  meter.classList.toggle("not-met", !view.meets_90_day_benchmark);
  meter.firstElementChild.style.width = `${Math.min(100, (100 * d) / BENCHMARK)}%`;
  const s = view.sessions;
  table("sessions-table", "Sessions started by the as-of instant", ["attended", "no-show", "cancelled", "voided", "attendance rate"],
    [[s.attended, s.no_show, s.cancelled, s.voided, pct(s.attendance_rate)]]);
}

function amendments(events) {
  if (!events) {
    setText("amend-table", "Corrections and voids need the history.read permission.");
    return;
  }
  const rows = events.filter((e) => e.payload.type === "SessionCorrected" || e.payload.type === "SessionEnteredInError").map((e) => {
    const { type, session_id, reason, ...changes } = e.payload;
    const changed = Object.entries(changes).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(", ");
    return [e.recorded_at, e.actor || "–", session_id, type === "SessionCorrected" ? "correction" : "void (entered in error)", changed || "–", reason];
  });
  if (!rows.length) setText("amend-table", "No correction or void.");
  else table("amend-table", "Corrections and voids, in the order recorded", ["recorded at", "by", "session", "kind", "changes", "reason"], rows);
}

async function history(knownAt) {
  try {
    return (await getJson(`/v1/patients/${encodeURIComponent(patientId)}/history`, { known_at: knownAt })).events;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return null; // journey.read only
    throw error;
  }
}

async function load() {
  clearError();
  const asOfLocal = document.getElementById("f-as-of").value;
  const knownLocal = document.getElementById("f-known-at").value;
  writeQuery({ as_of: asOfLocal, known_at: knownLocal });
  const params = { as_of: instant(asOfLocal), known_at: instant(knownLocal) };
  try {
    const [pal, view, events] = await Promise.all([
      palette(),
      getJson(`/v1/patients/${encodeURIComponent(patientId)}/journey`, params),
      history(params.known_at),
    ]);
    document.title = `Patient ${view.patient_id} · Care journey`;
    setText("title", `Patient ${view.patient_id}`);
    setText("view-note", `Journey as of ${view.as_of}${view.known_at ? `, as known at ${view.known_at}` : ""}.`);
    facts(view);
    drawTimeline(view, events, pal);
    weeks(view, pal);
    days(view, pal);
    continuity(view);
    amendments(events);
    document.body.dataset.loaded = String(Date.now());
  } catch (error) {
    showError(error);
    document.body.dataset.loaded = "error";
  }
}

function start() {
  const q = readQuery();
  document.getElementById("f-as-of").value = q.as_of || "";
  document.getElementById("f-known-at").value = q.known_at || "";
  setupTableToggles();
  setupPatientForm();
  setupKeyForm(load);
  document.getElementById("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  document.getElementById("f-now").addEventListener("click", () => {
    document.getElementById("f-as-of").value = "";
    document.getElementById("f-known-at").value = "";
    load();
  });
  load();
}

start();
