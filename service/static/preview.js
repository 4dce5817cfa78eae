// The dry run's answer: validation outcome, warnings and the plan (nothing has changed yet).

import { h, fill, details, list, formatSeconds } from "./dom.js";
import { PERSONAS } from "./form.js";

/** Render `POST /api/validate-skill`'s answer; `unplaced` are errors that belong to no field. */
export function renderPreview(target, result, unplaced = []) {
  const plan = result.dryRunPreview;
  fill(
    target,
    h("h2", {}, "Dry run ", h("span", { class: "muted small" }, "— no changes made")),
    result.valid
      ? h("p", { class: "banner ok" }, "All validations passed.")
      : h("div", { class: "banner bad" },
        h("p", {}, `${result.errors.length} problem${result.errors.length === 1 ? "" : "s"} to fix before this can run (shown next to the fields).`),
        list(unplaced.map((error) => `${error.field}: ${error.reason}${error.hint ? ` — ${error.hint}` : ""}`))),
    warnings(result.warnings),
    plan ? renderPlan(plan) : null,
  );
  target.hidden = false;
}

export function warnings(items) {
  return items?.length
    ? h("div", { class: "banner warn" }, h("strong", {}, "Warnings"), list(items))
    : null;
}

function renderPlan(plan) {
  const persona = PERSONAS.find(([value]) => value === plan.persona)?.[1] ?? plan.persona;
  return [
    details([
      ["Estimated time", plan.estimatedTotalTime],
      ["Measured time", plan.measuredTime ? h("span", { class: "measured" },
        `p50 ${formatSeconds(plan.measuredTime.p50Seconds)}, p95 ${formatSeconds(plan.measuredTime.p95Seconds)}`,
        h("span", { class: "muted small" }, ` (last ${plan.measuredTime.runs} completed runs with these steps)`)) : null],
      ["Output files", String(plan.estimatedOutputFiles)],
      ["Output path", plan.outputPath ? h("code", {}, plan.outputPath) : null],
      ["Level / persona", `${plan.level} / ${persona}`],
    ]),
    h("h3", {}, "Execution plan"),
    h("ol", { class: "plan-steps" }, plan.steps.map(planStep)),
    section("Files", plan.files, { open: true, code: true, id: "plan-files" }),
    section("Commands", plan.commands, { code: true }),
    section("Persona changes", plan.personaChanges, { open: true }),
    section("Ignored parameters", Object.entries(plan.ignoredParameters || {}).map(([name, reason]) => `${name}: ${reason}`)),
  ];
}

function planStep(step) {
  const skipped = step.status !== "run";
  const reason = step.status === "not-implemented" ? "not implemented yet" : step.reason;
  return h("li", { class: `plan-step ${skipped ? "skipped" : ""}`, "data-step": step.id },
    h("span", { class: step.critical ? "dot critical" : "dot", title: step.critical ? "critical" : "optional" }),
    h("span", { class: "step-name" }, step.name),
    step.critical ? h("span", { class: "tag critical" }, "critical") : null,
    skipped ? h("span", { class: "tag" }, "skipped") : null,
    skipped && reason ? h("p", { class: "reason" }, reason) : null);
}

function section(title, items, { open = false, code = false, id = null } = {}) {
  if (!items?.length) return null;
  return h("details", { class: "plan-section", open, id },
    h("summary", {}, `${title} (${items.length})`),
    h("ul", { class: code ? "code-list" : "" }, items.map((item) => h("li", {}, code ? h("code", {}, item) : item))));
}
