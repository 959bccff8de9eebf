// The standards-of-care figures of the dashboard: GET /v1/analytics/care-standards (SPEC 9,
// kept by the projection workers' read models):
//   {"at": T, "weekly_individual": {"iop": {"weeks": 120, "met": 96, "share": 0.8}},
//    "review_overdue": 3, "plan_overdue": 1,
//    "referrals_open": {"trauma": {"count": 2, "median_days_open": 5.0}},
//    "referrals_closed": {"completed": {"count": 4, "median_days_to_close": 7.0}}}
// Levels, specialties and outcomes without any case are absent. A count may be null for the
// analyst role (suppressed, docs/analytics.md). Drawn as given: nothing is computed here.

import { cnt, draw, levelColour, num, pct, setText, table } from "./charts.js";

const GRID = { left: 48, right: 16, top: 36, bottom: 40, containLabel: true };

export function careStandards(answer, shown, pal) {
  const levels = Object.keys(answer.weekly_individual).filter(shown);
  const weekly = levels.map((l) => {
    const w = answer.weekly_individual[l];
    return [l, cnt(w.weeks), cnt(w.met), pct(w.share)];
  });
  const open = Object.entries(answer.referrals_open);
  const closed = Object.entries(answer.referrals_closed);
  // A total of counts, or "suppressed" when one of them is (cell-size rule).
  const total = (entries) => (entries.some(([, v]) => v.count === null) ? "suppressed" : String(entries.reduce((s, [, v]) => s + v.count, 0)));
  const summary = `Standards of care at ${answer.at}: weeks with an individual session with the primary therapist ` +
    (weekly.length ? weekly.map((r) => `${r[0]} ${r[3]} of ${r[1]} weeks`).join(", ") : "none judged") +
    `; ${cnt(answer.review_overdue)} active patient(s) with a plan review overdue, ${cnt(answer.plan_overdue)} without a plan past its due date; ` +
    `referrals: ${total(open)} open, ${total(closed)} closed.`;
  setText("care-summary", summary);
  draw("care-chart", {
    grid: GRID,
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: levels },
    yAxis: { type: "value", name: "% of weeks met", max: 100 },
    series: [{
      type: "bar", label: { show: true, position: "top" },
      data: levels.map((l) => ({
        value: answer.weekly_individual[l].share === null ? null : +(answer.weekly_individual[l].share * 100).toFixed(2),
        itemStyle: { color: levelColour(pal, l) },
      })),
    }],
  }, summary);
  table("care-weekly-table", "Weeks ended by the as-of instant with a weekly individual session with the primary therapist, per level",
    ["level", "weeks judged", "met", "share met"], weekly);
  table("care-plans-table", "Active patients at the as-of instant", ["standard", "patients"],
    [["treatment-plan review overdue", cnt(answer.review_overdue)], ["no treatment plan, past its due date", cnt(answer.plan_overdue)]]);
  table("care-referrals-table", "Referrals: open at the as-of instant per specialty, closed by it per outcome",
    ["referrals", "specialty or outcome", "count", "median days"],
    [...open.map(([s, v]) => ["open", s, cnt(v.count), num(v.median_days_open)]),
      ...closed.map(([o, v]) => ["closed", o, cnt(v.count), num(v.median_days_to_close)])]);
}

// Said in the card when the server has no such endpoint (an older server): never a blank.
export function careStandardsMissing(status) {
  const text = `The standards-of-care figures are not available from this server (GET /v1/analytics/care-standards answered ${status}).`;
  setText("care-summary", text);
  ["care-weekly-table", "care-plans-table", "care-referrals-table"].forEach((id) => setText(id, ""));
}
