// Shared chart plumbing: the palette, ECharts instances, and the text alternatives of every
// chart (an aria-label summary on the chart and a visually hidden data table after it, which
// a "Show data table" button reveals).

const echarts = window.echarts;
const instances = new Map();
let palettePromise = null;

export function palette() {
  palettePromise ??= fetch("/web/static/palette.json").then((r) => r.json());
  return palettePromise;
}

export function levelColour(pal, level) {
  return pal.levels[level] || pal.fallback;
}

export const BASE = {
  animation: false,
  textStyle: { color: "#1a1a1a", fontFamily: "system-ui, sans-serif" },
  aria: { enabled: false }, // the container carries our own summary (role="img")
};

// Draws `option` in the element `id`, with `summary` as its accessible name.
export function draw(id, option, summary) {
  const el = document.getElementById(id);
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", summary);
  let chart = instances.get(id);
  if (!chart) {
    chart = echarts.init(el, null, { renderer: "canvas" });
    instances.set(id, chart);
  }
  chart.setOption({ ...BASE, ...option }, { notMerge: true });
  return chart;
}

window.addEventListener("resize", () => instances.forEach((chart) => chart.resize()));

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text === null || text === undefined ? "–" : String(text);
  return el;
}

// Fills the container `id` with a table (textContent only: data never becomes markup).
export function table(id, caption, columns, rows) {
  const box = document.getElementById(id);
  const t = document.createElement("table");
  t.append(cell("caption", caption));
  const head = t.createTHead().insertRow();
  columns.forEach((c) => {
    const th = cell("th", c);
    th.scope = "col";
    head.append(th);
  });
  const body = t.createTBody();
  rows.forEach((row) => {
    const tr = body.insertRow();
    row.forEach((value, i) => {
      const el = cell(i === 0 ? "th" : "td", value);
      if (i === 0) el.scope = "row";
      tr.append(el);
    });
  });
  box.replaceChildren(t);
}

export function setText(id, text) {
  document.getElementById(id).textContent = text;
}

// "Show data table" buttons: reveal the hidden table next to a chart.
export function setupTableToggles() {
  document.querySelectorAll("button.table-toggle").forEach((button) => {
    button.addEventListener("click", () => {
      const box = document.getElementById(button.getAttribute("aria-controls"));
      const open = box.classList.toggle("sr-only") === false;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "Hide data table" : "Show data table";
    });
  });
}

export const pct = (share) => (share === null || share === undefined ? "–" : `${(share * 100).toFixed(2)}%`);
export const num = (value) => (value === null || value === undefined ? "–" : String(value));
// A count: null means suppressed for the analyst role (cell-size rule, docs/analytics.md).
export const cnt = (value) => (value === null || value === undefined ? "suppressed" : String(value));
