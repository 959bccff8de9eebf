// The dashboard's figures: each draws one API answer as a chart, a one-line summary and a
// data table holding the same numbers as the answer (no computation beyond filtering).

import { cnt, draw, levelColour, num, pct, setText, table } from "./charts.js";

const GRID = { left: 48, right: 16, top: 36, bottom: 40, containLabel: true };
const STATUS_LABEL = {
  below_minimum: "below minimum",
  within_range: "within range",
  above_maximum: "above maximum",
  no_requirement: "no requirement",
};
const STATUS_COLOUR = { below_minimum: "#b11d1d", within_range: "#2f7d4a", above_maximum: "#6a3d9a", no_requirement: "#6b6b6b" };

export function census(answer, shown, pal) {
  const levels = Object.keys(answer.levels).filter(shown);
  const text = levels.map((l) => `${l} ${cnt(answer.levels[l])}`).join(", ");
  const summary = `Census at ${answer.as_of}: ${cnt(answer.total)} patients in care at all levels; ${text}.`;
  setText("census-summary", summary);
  draw("census-chart", {
    grid: GRID,
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: levels },
    yAxis: { type: "value", name: "patients", minInterval: 1 },
    series: [{
      type: "bar",
      data: levels.map((l) => ({ value: answer.levels[l], itemStyle: { color: levelColour(pal, l) } })),
      label: { show: true, position: "top" },
    }],
  }, summary);
  table("census-table", `Patients per level at ${answer.as_of}`, ["level", "patients"],
    [...levels.map((l) => [l, cnt(answer.levels[l])]), ["all levels", cnt(answer.total)]]);
}

export function daily(answer, shown, pal) {
  const levels = answer.days.length ? Object.keys(answer.days[0].levels).filter(shown) : [];
  const dates = answer.days.map((d) => d.date);
  const peak = Math.max(0, ...answer.days.map((d) => levels.reduce((s, l) => s + (d.levels[l] ?? 0), 0)));
  const partial = answer.days.filter((d) => !d.complete).length;
  const summary = `Midnight census per date from ${answer.from_date} to ${answer.to_date} for ${levels.join(", ") || "no level"}; at most ${peak} patients on one date.` +
    (partial ? ` ${partial} last date(s) partial: their ending midnight is after the as-of instant in some patients' time zones.` : "");
  setText("daily-summary", summary);
  draw("daily-chart", {
    grid: { ...GRID, bottom: 70 },
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    dataZoom: [{ type: "slider", bottom: 8 }],
    xAxis: { type: "category", data: dates, boundaryGap: false },
    yAxis: { type: "value", name: "patients", minInterval: 1 },
    series: levels.map((l) => ({
      name: l, type: "line", stack: "census", areaStyle: { opacity: 0.75 }, symbol: "none",
      color: levelColour(pal, l), data: answer.days.map((d) => d.levels[l]),
    })),
  }, summary);
  table("daily-table", "Patients per level at each local midnight", ["date", ...levels, "complete"],
    answer.days.map((d) => [d.date, ...levels.map((l) => cnt(d.levels[l])), d.complete ? "yes" : "partial"]));
}

export function lengthOfStay(answer, shown, pal) {
  const levels = Object.keys(answer.stays_by_level).filter(shown);
  const rows = levels.map((l) => {
    const s = answer.stays_by_level[l];
    return [l, cnt(s.count), num(s.mean_days), num(s.median_days)];
  });
  const summary = `Stays ended by ${answer.as_of}: ` + rows.map((r) => `${r[0]} ${r[1]} stays, median ${r[3]} days`).join("; ") + ".";
  setText("los-summary", summary);
  draw("los-chart", {
    grid: GRID,
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: ["mean days", "median days"] },
    xAxis: { type: "category", data: levels },
    yAxis: { type: "value", name: "days" },
    series: [
      { name: "mean days", type: "bar", color: "#a9a9a9", data: levels.map((l) => ({ value: answer.stays_by_level[l].mean_days, itemStyle: { color: levelColour(pal, l), opacity: 0.55 } })) },
      { name: "median days", type: "bar", color: "#4a4a4a", data: levels.map((l) => ({ value: answer.stays_by_level[l].median_days, itemStyle: { color: levelColour(pal, l) } })) },
    ],
  }, summary);
  table("los-table", "Stays ended by the as-of instant, per level", ["level", "stays", "mean days", "median days"], rows);
}

export function reasons(answer) {
  const entries = Object.entries(answer.episodes_by_reason);
  const rows = entries.map(([r, s]) => [r, cnt(s.count), num(s.mean_days), num(s.median_days)]);
  const total = entries.reduce((sum, [, s]) => sum + (s.count ?? 0), 0);
  const summary = `${total} episodes discharged by ${answer.as_of}: ` + rows.filter((r) => r[1] !== "0").map((r) => `${r[0]} ${r[1]}`).join(", ") + ".";
  setText("reasons-summary", summary);
  draw("reasons-chart", {
    grid: GRID,
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: entries.map(([r]) => r), axisLabel: { interval: 0, rotate: 25 } },
    yAxis: { type: "value", name: "episodes", minInterval: 1 },
    series: [{ type: "bar", color: "#1f5fa8", data: entries.map(([, s]) => s.count), label: { show: true, position: "top" } }],
  }, summary);
  table("reasons-table", "Episodes discharged by the as-of instant, per reason", ["reason", "episodes", "mean days", "median days"], rows);
}

export function flow(answer, shown, pal) {
  const pairs = ["step_down", "step_up"].flatMap((direction) =>
    answer[direction].filter((p) => shown(p.from_level) || shown(p.to_level)).map((p) => ({ ...p, direction })));
  const nodes = new Map();
  pairs.forEach((p) => {
    nodes.set(`from ${p.from_level}`, levelColour(pal, p.from_level));
    nodes.set(`to ${p.to_level}`, levelColour(pal, p.to_level));
  });
  const down = pairs.filter((p) => p.direction === "step_down").reduce((s, p) => s + (p.count ?? 0), 0);
  const up = pairs.filter((p) => p.direction === "step_up").reduce((s, p) => s + (p.count ?? 0), 0);
  const summary = `Transitions from ${answer.from_date} to ${answer.to_date}: ${down} step-downs (blue links) and ${up} step-ups (red links) touching the shown levels. ` +
    pairs.slice(0, 4).map((p) => `${p.from_level} to ${p.to_level}: ${cnt(p.count)}`).join("; ") + ".";
  setText("flow-summary", summary);
  draw("flow-chart", {
    tooltip: { trigger: "item" },
    series: [{
      type: "sankey", left: 90, right: 110, top: 16, bottom: 16, nodeAlign: "justify",
      data: [...nodes].map(([name, color]) => ({ name, itemStyle: { color } })),
      links: pairs.map((p) => ({
        source: `from ${p.from_level}`, target: `to ${p.to_level}`, value: p.count ?? 0,
        lineStyle: { color: p.direction === "step_down" ? "#2b6cb0" : "#b11d1d", opacity: 0.35 },
      })),
      label: { color: "#1a1a1a" },
    }],
  }, summary);
  table("flow-table", `Transitions per (from, to) pair, ${answer.from_date} to ${answer.to_date}`,
    ["direction", "from", "to", "count"], pairs.map((p) => [p.direction, p.from_level, p.to_level, cnt(p.count)]));
}

export function retention(answer) {
  const summary = `Of ${cnt(answer.chains)} care chains first admitted by ${answer.first_admitted_by}, ${cnt(answer.retained)} reached ${answer.benchmark_days} days of continuous care (${pct(answer.share)}).`;
  setText("retention-summary", summary);
  setText("retention-share", pct(answer.share));
  draw("retention-chart", {
    tooltip: { trigger: "item" },
    series: [{
      type: "pie", radius: ["45%", "70%"], label: { formatter: "{b}: {c}", color: "#1a1a1a" },
      data: [
        { name: `reached ${answer.benchmark_days} days`, value: answer.retained, itemStyle: { color: "#2f7d4a" } },
        { name: "did not", value: answer.chains === null || answer.retained === null ? null : answer.chains - answer.retained, itemStyle: { color: "#9a5b00" } },
      ],
    }],
  }, summary);
  table("retention-table", `${answer.benchmark_days}-day retention as of ${answer.as_of}`,
    ["care chains", "retained", "share"], [[cnt(answer.chains), cnt(answer.retained), pct(answer.share)]]);
}

export function intensity(answer, shown) {
  const levels = Object.keys(answer.weeks_by_level).filter(shown);
  const statuses = Object.keys(STATUS_LABEL);
  const summary = `Complete single-level weeks as of ${answer.as_of}: ` + levels.map((l) => {
    const w = answer.weeks_by_level[l];
    return `${l} ${cnt(w.weeks)} weeks, ${pct(w.shares.below_minimum)} below minimum, ${pct(w.shares.within_range)} within, ${pct(w.shares.above_maximum)} above`;
  }).join("; ") + ".";
  setText("intensity-summary", summary);
  draw("intensity-chart", {
    grid: { ...GRID, left: 90 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    xAxis: { type: "value", max: 100, name: "% of weeks" },
    yAxis: { type: "category", data: levels },
    series: statuses.map((s) => ({
      name: STATUS_LABEL[s], type: "bar", stack: "weeks", color: STATUS_COLOUR[s],
      data: levels.map((l) => +(((answer.weeks_by_level[l].shares[s] ?? 0) * 100).toFixed(2))),
    })),
  }, summary);
  const attendance = answer.attendance_by_level;
  table("intensity-table", "Complete weeks per status and attendance rate, per level",
    ["level", "weeks", ...statuses.map((s) => STATUS_LABEL[s]), "attendance rate"],
    levels.map((l) => {
      const w = answer.weeks_by_level[l];
      return [l, cnt(w.weeks), ...statuses.map((s) => `${cnt(w.counts[s])} (${pct(w.shares[s])})`), pct(attendance[l]?.rate)];
    }));
}
