// The History tab: past and running executions, with rollback and re-attach.

import { apiJson } from "./api.js";
import { h, fill, localTime } from "./dom.js";
import { rollbackControl } from "./rollback.js";

const FINISHED = new Set(["completed", "failed", "crashed", "cancelled"]);
const ONGOING = new Set(["running", "pending", "scheduled", "paused", "cancelling"]);
const STATUSES = ["completed", "failed", "cancelled", "crashed", "running", "paused", "rolled_back"];
const PAGE_SIZE = 50;

export class HistoryView {
  /** `onAttach(executionId, record)` re-attaches the Run (or Workflows) tab to a running execution. */
  constructor(target, { onAttach }) {
    this.target = target;
    this.onAttach = onAttach;
    this.statusFilter = h("select", { id: "history-status", onchange: () => this.load() },
      h("option", { value: "" }, "any status"),
      STATUSES.map((status) => h("option", { value: status }, status.replace("_", " "))));
    this.body = h("tbody");
    this.summary = h("p", { class: "muted small", role: "status" });
    fill(target,
      h("div", { class: "panel-head" },
        h("h2", {}, "Execution history"),
        h("div", { class: "toolbar" },
          h("label", { for: "history-status" }, "Status "), this.statusFilter,
          h("button", { type: "button", onclick: () => this.load() }, "Refresh"))),
      this.summary,
      h("table", { class: "history" },
        h("thead", {}, h("tr", {}, ["Status", "Skill", "Started", "Duration", "Prefect", "Actions"].map((title) => h("th", { scope: "col" }, title)))),
        this.body));
  }

  async load() {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (this.statusFilter.value && this.statusFilter.value !== "rolled_back") query.set("status", this.statusFilter.value);
    this.summary.textContent = "Loading…";
    try {
      const history = await apiJson(`/api/execution-history?${query}`);
      const shown = history.executions.filter((record) => this.statusFilter.value !== "rolled_back" || record.status === "rolled_back");
      fill(this.body, shown.length ? shown.map((record) => this.row(record)) : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No executions yet.")));
      this.summary.textContent = `${history.count} execution${history.count === 1 ? "" : "s"}${history.count > PAGE_SIZE ? `, newest ${PAGE_SIZE} shown` : ""}.`;
    } catch (error) {
      this.summary.textContent = "";
      fill(this.body, h("tr", {}, h("td", { colspan: 6, class: "banner bad", role: "alert" }, error.message)));
    }
  }

  row(record) {
    const result = h("td", { colspan: 6 });
    const resultRow = h("tr", { class: "result-row", hidden: true }, result);
    const status = h("span", { class: `badge ${record.status}` }, record.status.replace("_", " "));
    const actions = h("td", { class: "actions" });
    if (FINISHED.has(record.status)) {
      actions.append(rollbackControl(record.rollbackToken, {
        show: (node) => {
          fill(result, node);
          resultRow.hidden = false;
        },
        onDone: () => {
          status.className = "badge rolled_back";
          status.textContent = "rolled back";
        },
      }));
    } else if (ONGOING.has(record.status)) {
      actions.append(h("a", { href: `#run/${record.id}`, class: "button small", onclick: (event) => {
        event.preventDefault();
        this.onAttach(record.id, record);
      } }, "Re-attach"));
    } else if (record.rolledBackAt) {
      actions.append(h("span", { class: "muted small" }, `rolled back ${localTime(record.rolledBackAt)}`));
    }
    const row = h("tr", { "data-execution": record.id },
      h("td", {}, status),
      h("td", {}, record.kind === "workflow" ? `workflow ${record.workflowId ?? ""}` : record.skillName ?? record.skillId ?? "—", record.parameters ? h("div", { class: "muted small" }, parameterSummary(record)) : null),
      h("td", {}, h("time", { datetime: record.timestamp }, localTime(record.timestamp))),
      h("td", {}, record.duration),
      h("td", {}, record.prefectUrl ? h("a", { href: record.prefectUrl, target: "_blank", rel: "noopener" }, "run") : "—"),
      actions);
    return [row, resultRow];
  }
}

function parameterSummary(record) {
  const first = Object.entries(record.parameters).find(([, value]) => typeof value === "string");
  return [first ? `${first[0]}: ${first[1]}` : null, record.level].filter(Boolean).join(" · ");
}
