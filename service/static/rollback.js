// Rolling back an execution: an inline confirmation, then what was deleted, restored or kept.

import { apiJson, ApiError } from "./api.js";
import { h, fill, list } from "./dom.js";

/**
 * A "Roll back" button for `token`. `show(node)` puts the outcome on the page;
 * `onDone(result)` runs after a rollback that completed.
 */
export function rollbackControl(token, { show, onDone = () => {}, label = "Roll back" }) {
  const control = h("span", { class: "rollback" });
  const ask = () => fill(control,
    h("span", { class: "muted small" }, "Undo every change of this run?"),
    h("button", { type: "button", class: "danger small", onclick: () => run(false) }, "Yes, roll back"),
    h("button", { type: "button", class: "small", onclick: idle }, "Keep"));
  const idle = () => fill(control, h("button", { type: "button", class: "small", onclick: ask }, label));

  async function run(force) {
    fill(control, h("span", { class: "muted small", role: "status" }, "Rolling back…"));
    try {
      const result = await apiJson("/api/rollback", { method: "POST", body: { rollbackToken: token, force } });
      show(rollbackReport(result, () => run(true)));
      fill(control, h("span", { class: "tag ok" }, result.conflicts.length ? "rolled back, with conflicts" : "rolled back"));
      onDone(result);
    } catch (error) {
      show(h("div", { class: "banner bad", role: "alert" }, h("p", {}, error.message), list(error instanceof ApiError ? error.suggestions : [])));
      idle();
    }
  }

  idle();
  return control;
}

function rollbackReport(result, force) {
  const summary = result.alreadyRolledBack
    ? "This execution had already been rolled back."
    : `Deleted ${result.deleted.length}, restored ${result.restored.length}, kept ${result.conflicts.length} conflict${result.conflicts.length === 1 ? "" : "s"}.`;
  return h("div", { class: `banner ${result.conflicts.length ? "warn" : "ok"} rollback-report`, role: "status" },
    h("p", {}, summary),
    group("Deleted", result.deleted),
    group("Restored", result.restored),
    group("Conflicts (the run's changes, left in place)", result.conflicts, result.reasons),
    group("Kept (folders holding others' files)", result.kept || [], result.reasons),
    result.conflicts.length
      ? h("button", { type: "button", class: "danger small", onclick: force }, "Force rollback (discard those edits)")
      : null);
}

function group(title, paths, reasons = {}) {
  const item = (path) => h("li", {}, h("code", {}, path), reasons[path] ? ` — ${reasons[path]}` : "");
  return paths.length
    ? h("details", {}, h("summary", {}, `${title}: ${paths.length}`), h("ul", { class: "code-list" }, paths.map(item)))
    : null;
}
