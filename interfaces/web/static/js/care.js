// The care the program gives beside levels and hours: the primary therapist, the
// treatment plan (review due or overdue, goals by ASAM dimension, objectives with their
// statuses) and the referrals. The figures come from the journey (GET .../journey); the
// goals and objectives from GET .../care (history.read). Nothing is computed here.

import { setText, table } from "./charts.js";

const yesNo = (flag) => (flag ? "yes" : "no");

function planSummary(view) {
  const plan = view.treatment_plan;
  const box = document.getElementById("plan-summary");
  box.classList.toggle("overdue", Boolean(view.plan_overdue || (plan && plan.review_overdue)));
  if (!plan) {
    box.textContent = view.plan_overdue
      ? "No treatment plan, and one is overdue (the admission level's plan_due_days have passed)."
      : "No treatment plan yet.";
    return;
  }
  const review = plan.review_overdue ? `review OVERDUE (was due ${plan.next_review_due})` : `next review due ${plan.next_review_due}`;
  const counts = Object.entries(plan.objectives).filter(([, n]) => n).map(([s, n]) => `${n} ${s.replace("_", " ")}`).join(", ");
  box.textContent = `Plan ${plan.plan_id}, created ${plan.created_at}; ${plan.reviews} review(s), last ${plan.last_reviewed_at || "none"}; ${review}. Objectives: ${counts || "none"}.`;
}

function goals(care) {
  if (!care) {
    setText("plan-goals", "Goals and objectives need the history.read permission.");
    return;
  }
  const plan = care.plans.filter((p) => p.status === "active").pop() || care.plans[care.plans.length - 1];
  if (!plan) {
    setText("plan-goals", "No treatment plan as of this instant.");
    return;
  }
  table("plan-goals", `Goals and objectives of plan ${plan.plan_id} (${plan.status})`,
    ["objective", "goal", "ASAM dimension", "target date", "status", "goal description", "objective description"],
    plan.goals.flatMap((g) => g.objectives.map((o) => [o.objective_id, g.goal_id, g.dimension, o.target_date, o.status.replace("_", " "), g.description || "–", o.description || "–"])));
}

function referrals(view) {
  const rows = view.referrals.map((r) => [r.referral_id, r.specialty, r.referred_at, r.closed_at ? "closed" : "open", r.closed_at || "–", r.outcome || "–", r.days_open]);
  const open = view.referrals.filter((r) => !r.closed_at).length;
  setText("referrals-summary", `${view.referrals.length} referral(s): ${open} open, ${view.referrals.length - open} closed.`);
  if (!rows.length) setText("referrals-table", "No referral as of this instant.");
  else table("referrals-table", "Referrals, oldest first", ["referral", "specialty", "referred at", "state", "closed at", "outcome", "days open"], rows);
}

export function drawCare(view, care) {
  setText("primary-therapist", view.primary_therapist ? `Primary therapist: ${view.primary_therapist}.` : "No primary therapist assigned in the open episode.");
  planSummary(view);
  goals(care);
  referrals(view);
}
