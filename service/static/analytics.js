// The Analytics tab: what Prefect's record of the runs says (`GET /api/analytics`), as charts.

import { apiJson } from "./api.js";
import { h, fill, details, formatSeconds } from "./dom.js";
import { PALETTE, legend, lines, rankedBars, stackedBars } from "./charts.js";

const STATUSES = [
  ["completed", "completed", "#1d7a46"],
  ["failed", "failed", "#b42318"],
  ["cancelled", "cancelled", "#8a5a00"],
  ["crashed", "crashed", "#6941c6"],
  ["unfinished", "unfinished", "#9aa4b2"],
];
const WINDOWS = [["7", "last 7 days"], ["30", "last 30 days"], ["90", "last 90 days"]];
const RANKED = 8;

export class AnalyticsView {
  constructor(target) {
    this.target = target;
    this.windowSelect = h("select", { id: "analytics-window", onchange: () => this.load() },
      WINDOWS.map(([days, name]) => h("option", { value: days, selected: days === "30" }, name)));
    this.body = h("div", { class: "analytics", "aria-live": "polite" });
    fill(target,
      h("div", { class: "panel-head" },
        h("h2", {}, "Analytics"),
        h("div", { class: "toolbar" },
          h("label", { for: "analytics-window" }, "Runs from "), this.windowSelect,
          h("button", { type: "button", onclick: () => this.load() }, "Refresh"))),
      this.body);
  }

  async load() {
    const since = new Date(Date.now() - Number(this.windowSelect.value) * 86400_000).toISOString();
    fill(this.body, h("p", { class: "muted" }, "Loading…"));
    try {
      this.render(await apiJson(`/api/analytics?${new URLSearchParams({ since })}`));
    } catch (error) {
      fill(this.body, h("p", { class: "banner bad", role: "alert" }, `Could not load analytics: ${error.message}`));
    }
  }

  render(data) {
    if (!data.runs) {
      fill(this.body, h("p", { class: "muted" }, "No runs in this window yet."));
      return;
    }
    const days = data.daily.map((point) => point.day);
    const colors = new Map(data.skills.map((skill, index) => [skill.skillId, PALETTE[index % PALETTE.length]]));
    const steps = data.skills.flatMap((skill) => skill.steps.map((step) => ({ ...step, skill })));
    fill(this.body,
      details([
        ["Runs", String(data.runs)],
        ["Success rate", percent(data.successRate)],
        ["Read", data.truncated ? "the newest runs only (more were due in this window)" : null],
      ]),
      figure("runs-per-day", "Runs per day by status",
        stackedBars(data.daily.map((point) => ({ label: point.day.slice(5), values: point.statuses })), STATUSES, "Runs per day by status"),
        legend(STATUSES.map(([, name, color]) => [name, color]))),
      figure("duration-trend", "Median duration per skill (completed runs)",
        lines(days.map((day) => day.slice(5)), data.skills.map((skill) => ({
          name: skill.skillName,
          color: colors.get(skill.skillId),
          values: days.map((day) => skill.daily.find((point) => point.day === day)?.durations.p50Seconds ?? null),
        })), "Median duration per skill and day", formatSeconds),
        legend(data.skills.map((skill) => [skill.skillName, colors.get(skill.skillId)]))),
      figure("slowest-steps", "Slowest steps (p95)", rankedBars(slowest(steps, colors), "Slowest steps by p95 duration", formatSeconds)),
      figure("least-reliable-steps", "Least reliable steps", unreliable(steps, colors)),
      skillTable(data.skills));
  }
}

function figure(id, caption, ...content) {
  return h("figure", { class: "chart-figure", id }, h("figcaption", {}, caption), content);
}

function slowest(steps, colors) {
  return steps
    .filter((step) => typeof step.durations.p95Seconds === "number")
    .sort((a, b) => b.durations.p95Seconds - a.durations.p95Seconds)
    .slice(0, RANKED)
    .map((step) => ({
      label: `${step.skill.skillId} · ${step.stepName}`,
      value: step.durations.p95Seconds,
      note: `p95 ${formatSeconds(step.durations.p95Seconds)}, p50 ${formatSeconds(step.durations.p50Seconds)}`,
      color: colors.get(step.skill.skillId),
    }));
}

function unreliable(steps, colors) {
  const failing = steps
    .filter((step) => step.failed > 0)
    .sort((a, b) => a.successRate - b.successRate || b.failed - a.failed)
    .slice(0, RANKED)
    .map((step) => ({
      label: `${step.skill.skillId} · ${step.stepName}`,
      value: 1 - (step.successRate ?? 0),
      note: `${step.failed} of ${step.runs} failed (${percent(1 - (step.successRate ?? 0))})`,
      color: colors.get(step.skill.skillId),
    }));
  return failing.length
    ? rankedBars(failing, "Steps by failure rate", percent, 1)
    : h("p", { class: "muted" }, "No step failed in this window.");
}

function skillTable(skills) {
  return h("table", { class: "history analytics-skills" },
    h("thead", {}, h("tr", {}, ["Skill", "Runs", "Success", "p50", "p95", "Rolled back", "Most frequent failure"]
      .map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, skills.map((skill) => h("tr", { "data-skill": skill.skillId },
      h("td", {}, skill.skillName),
      h("td", {}, String(skill.runs)),
      h("td", {}, percent(skill.successRate)),
      h("td", {}, formatSeconds(skill.durations.p50Seconds)),
      h("td", {}, formatSeconds(skill.durations.p95Seconds)),
      h("td", {}, String(skill.rolledBack)),
      h("td", {}, skill.failures[0]
        ? `${skill.failures[0].stepId}: ${skill.failures[0].title ?? "no diagnosis"} (${skill.failures[0].count})` : "—")))));
}

function percent(rate) {
  return typeof rate === "number" ? `${Math.round(rate * 100)}%` : "–";
}
