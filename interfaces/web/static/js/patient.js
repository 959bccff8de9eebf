// One patient's journey: fetches GET /v1/patients/{id}/journey?as_of=&known_at= and
// /sessions?as_of=&known_at= (both recorded in the access trail) and draws them. The
// sessions, corrections and voids come folded by the server (projections/session_view.py):
// nothing here re-applies a correction.

import { ApiError, clearError, getJson, readQuery, setupKeyForm, setupPatientForm, showError, writeQuery } from "./api.js";
import { draw, levelColour, num, palette, pct, setText, setupTableToggles, table } from "./charts.js";
import { drawCare } from "./care.js";
import { drawTimeline } from "./timeline.js";
import { instantToLocal, localText, localToInstant, withOffset } from "./zoned.js";

const patientId = decodeURIComponent(window.location.pathname.split("/")[2] || "");
const BENCHMARK = 90;
const MET_LABEL = { true: "met", false: "MISSED", null: "not judged" };
const STATUS_LABEL = { below_minimum: "below minimum", within_range: "within range", above_maximum: "above maximum", no_requirement: "no requirement" };

// The patient's time zone, known from the last journey loaded; the as-of and known-at
// fields are read and written in it (UTC until a journey says otherwise).
let zone = null;
const fieldZone = () => zone || "UTC";
const instant = (local) => (local ? localToInstant(local, fieldZone()) : null);

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
  // A week below its minimum with no attended hour has a bar of height 0: it gets a mark
  // on the axis, so the worst weeks do not look empty.
  const empty = w.map((x, i) => (x.status === "below_minimum" && x.attended_hours === 0 ? i : -1)).filter((i) => i >= 0);
  // Weeks judged (weekly_individual_met not null) without an individual session with the
  // primary therapist: marked above their bar.
  const missed = w.map((x, i) => (x.weekly_individual_met === false ? i : -1)).filter((i) => i >= 0);
  const top = Math.max(1, ...w.map((x) => Math.max(x.attended_hours, x.expected_max_hours || 0, x.expected_min_hours || 0)));
  const summary = `${w.length} weeks: ` + Object.entries(counts).map(([s, n]) => `${n} ${STATUS_LABEL[s]}`).join(", ") + "." +
    (empty.length ? ` ${empty.length} below minimum with no attended hours (marked at 0).` : "") +
    ` ${missed.length} judged week(s) without an individual session with the primary therapist (marked ◆ above the bars).`;
  setText("weeks-summary", summary);
  draw("weeks-chart", {
    grid: { left: 56, right: 16, top: 40, bottom: 70, containLabel: true },
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: ["attended hours", "no attended hours", "no individual session with the primary therapist", "expected minimum", "expected maximum"] },
    dataZoom: [{ type: "slider", bottom: 8 }],
    xAxis: { type: "category", data: w.map((x) => x.week) },
    yAxis: { type: "value", name: "hours" },
    series: [
      { name: "attended hours", type: "bar", color: "#4a4a4a",
        data: w.map((x) => ({ value: x.attended_hours, itemStyle: { color: pal.status[x.status] } })) },
      { name: "no attended hours", type: "scatter", symbol: "rect", symbolSize: [14, 8], symbolOffset: [0, -4], z: 3,
        color: pal.status.below_minimum, label: { show: true, position: "top", formatter: "0 h", color: pal.status.below_minimum },
        data: empty.map((i) => [i, 0]) },
      { name: "no individual session with the primary therapist", type: "scatter", symbol: "diamond", symbolSize: 10, z: 4,
        color: pal.amendments.void, data: missed.map((i) => [i, top * 1.05]) },
      { name: "expected minimum", type: "line", step: "middle", symbol: "none", color: "#1a1a1a", lineStyle: { type: "dashed" }, data: w.map((x) => x.expected_min_hours) },
      { name: "expected maximum", type: "line", step: "middle", symbol: "none", color: "#6a3d9a", data: w.map((x) => x.expected_max_hours) },
    ],
  }, summary + " Bars are attended hours coloured by status; lines the prorated minimum and maximum.");
  statusLegend(pal);
  table("weeks-table", "Hours per ISO week", ["week", "starts", "attended hours", "other hours", "individual sessions", "expected minimum", "expected maximum", "status", "complete", "levels",
    "evidence-based hours", "individual with primary therapist", "weekly individual session"],
    w.map((x) => [x.week, x.start_date, x.attended_hours, x.other_hours, x.individual_sessions, num(x.expected_min_hours), num(x.expected_max_hours),
      STATUS_LABEL[x.status], x.complete ? "yes" : "no", Object.entries(x.level_days).map(([l, d]) => `${l} ${d}`).join(", "),
      x.evidence_based_hours, x.individual_with_primary, MET_LABEL[String(x.weekly_individual_met)]]));
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

function amendments(log) {
  if (!log) {
    setText("amend-table", "Corrections and voids need the history.read permission.");
    return;
  }
  if (!log.amendments.length) setText("amend-table", "No correction or void.");
  else table("amend-table", "Corrections and voids, in the order recorded", ["recorded at", "by", "session", "kind", "changes", "reason"],
    log.amendments.map((a) => [a.recorded_at, a.actor || "-", a.session_id, a.kind_label, a.changes_text, a.reason]));
}

// A part of the page needing history.read: null (and said so) for a key without it.
async function detail(part, params) {
  try {
    return await getJson(`/v1/patients/${encodeURIComponent(patientId)}/${part}`, params);
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return null; // journey.read only
    throw error;
  }
}

// Says which instant the page shows, in the patient's local time and in UTC, and marks an
// as-of after now: the journey there is projected from what is recorded now.
function viewNote(view) {
  const both = (iso) => `${localText(iso, view.timezone)} ${view.timezone} (${iso})`;
  setText("view-note", `Journey as of ${both(view.as_of)}${view.known_at ? `, as known at ${both(view.known_at)}` : ""}.`);
  const future = document.getElementById("future-note");
  future.hidden = !view.as_of_in_future;
  future.textContent = future.hidden ? "" : `As of ${view.as_of} is in the future: this journey is projected from what is recorded now (stays run on, nothing not yet recorded is shown).`;
}

function zoneLabels() {
  const where = zone ? `${zone} local time` : "UTC";
  setText("l-as-of", `As of (${where}; empty = now)`);
  setText("l-known-at", `Known at (${where}; empty = everything recorded)`);
}

async function load(params) {
  clearError();
  writeQuery({ as_of: params.as_of, known_at: params.known_at });
  try {
    const [pal, view, log, care] = await Promise.all([
      palette(),
      getJson(`/v1/patients/${encodeURIComponent(patientId)}/journey`, params),
      detail("sessions", params),
      detail("care", params),
    ]);
    zone = view.timezone;
    zoneLabels();
    document.getElementById("f-as-of").value = params.as_of ? instantToLocal(params.as_of, zone) : "";
    document.getElementById("f-known-at").value = params.known_at ? instantToLocal(params.known_at, zone) : "";
    document.title = `Patient ${view.patient_id} · Care journey`;
    setText("title", `Patient ${view.patient_id}`);
    viewNote(view);
    facts(view);
    drawTimeline(view, log, pal);
    drawCare(view, care);
    weeks(view, pal);
    days(view, pal);
    continuity(view);
    amendments(log);
    document.body.dataset.loaded = String(Date.now());
  } catch (error) {
    showError(error);
    document.body.dataset.loaded = "error";
  }
}

// The fields, typed in the patient's local time, as the instants the API takes.
const fromFields = () => ({
  as_of: instant(document.getElementById("f-as-of").value),
  known_at: instant(document.getElementById("f-known-at").value),
});

function start() {
  const q = readQuery();
  const initial = { as_of: withOffset(q.as_of), known_at: withOffset(q.known_at) };
  zoneLabels();
  document.getElementById("f-as-of").value = initial.as_of ? instantToLocal(initial.as_of, fieldZone()) : "";
  document.getElementById("f-known-at").value = initial.known_at ? instantToLocal(initial.known_at, fieldZone()) : "";
  setupTableToggles();
  setupPatientForm();
  setupKeyForm(() => load(fromFields()));
  document.getElementById("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    load(fromFields());
  });
  document.getElementById("f-now").addEventListener("click", () => load({ as_of: null, known_at: null }));
  load(initial);
}

start();
