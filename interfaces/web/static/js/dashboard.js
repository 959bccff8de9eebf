// The program dashboard: reads the filters, fetches the analytics API (the same endpoints the
// CLI's figures come from) and hands each answer to its figure.

import { ApiError, clearError, getJson, readQuery, setupKeyForm, setupPatientForm, showError, writeQuery } from "./api.js";
import { palette, setupTableToggles } from "./charts.js";
import { careStandards, careStandardsMissing } from "./dashboard_care.js";
import * as figures from "./dashboard_figures.js";
import { inFuture } from "./zoned.js";

const DAY = 86400000;
const isoDate = (d) => d.toISOString().slice(0, 10);
const addDays = (text, days) => isoDate(new Date(Date.parse(`${text}T00:00:00Z`) + days * DAY));
let knownLevels = [];

function initialFilters() {
  const q = readQuery();
  const at = q.at || isoDate(new Date());
  const to = q.to || at;
  return { at, to, from: q.from || addDays(to, -89), levels: q.levels ? q.levels.split(",") : null };
}

function setInputs(filters) {
  document.getElementById("f-at").value = filters.at;
  document.getElementById("f-from").value = filters.from;
  document.getElementById("f-to").value = filters.to;
}

function levelBoxes(levels, selected) {
  const box = document.getElementById("f-levels");
  if (knownLevels.join() === levels.join()) return;
  knownLevels = levels;
  box.querySelectorAll("label").forEach((label) => label.remove());
  levels.forEach((level) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "checkbox", name: "level", value: level, checked: !selected || selected.includes(level) });
    label.append(input, ` ${level}`);
    box.append(label);
  });
}

function currentFilters() {
  const checked = [...document.querySelectorAll("#f-levels input:checked")].map((i) => i.value);
  const all = checked.length === knownLevels.length;
  return {
    at: document.getElementById("f-at").value,
    from: document.getElementById("f-from").value,
    to: document.getElementById("f-to").value,
    levels: knownLevels.length && !all ? checked : null,
  };
}

async function load(filters) {
  clearError();
  writeQuery({ at: filters.at, from: filters.from, to: filters.to, levels: filters.levels?.join(",") });
  // "As of date D" is the end of D in UTC: the first instant of D + 1.
  const at = `${addDays(filters.at, 1)}T00:00:00+00:00`;
  document.getElementById("as-of-note").textContent = `Figures as of ${at} (the end of ${filters.at} in UTC); period ${filters.from} to ${filters.to}.`;
  // The default as-of date is today, whose end lies ahead: say that those figures are a
  // projection (open stays run on to that instant; nothing not yet recorded is counted).
  const future = document.getElementById("future-note");
  future.hidden = !inFuture(at);
  future.textContent = future.hidden ? "" : `As of ${at} is in the future: the figures project what is recorded now to that instant (stays still open count to it).`;
  const period = { from: filters.from, to: filters.to, at };
  try {
    const [pal, census, daily, los, flow, retention, intensity, care] = await Promise.all([
      palette(),
      getJson("/v1/analytics/census", { at }),
      getJson("/v1/analytics/census/daily", period),
      getJson("/v1/analytics/length-of-stay", { at }),
      getJson("/v1/analytics/transitions", period),
      getJson("/v1/analytics/retention", { at }),
      getJson("/v1/analytics/intensity", { at }),
      getJson("/v1/analytics/care-standards", { at }).catch((error) => {
        if (error instanceof ApiError && error.status === 404) return { missing: 404 };
        throw error;
      }),
    ]);
    levelBoxes(Object.keys(census.levels), filters.levels);
    const shown = (level) => !filters.levels || filters.levels.includes(level);
    figures.census(census, shown, pal);
    figures.daily(daily, shown, pal);
    figures.lengthOfStay(los, shown, pal);
    figures.reasons(los);
    figures.flow(flow, shown, pal);
    figures.retention(retention);
    figures.intensity(intensity, shown, pal);
    if (care.missing) careStandardsMissing(care.missing);
    else careStandards(care, shown, pal);
    document.body.dataset.loaded = String(Date.now());
  } catch (error) {
    showError(error);
    document.body.dataset.loaded = "error";
  }
}

function start() {
  const filters = initialFilters();
  setInputs(filters);
  setupTableToggles();
  setupPatientForm();
  setupKeyForm(() => load(currentFilters()));
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load(currentFilters());
  });
  load(filters);
}

start();
