// A running execution, as its SSE events tell it: progress, steps, logs, pauses, the outcome.

import { apiJson, openStream, readEvents } from "./api.js";
import { h, fill, details, list, formatSeconds } from "./dom.js";
import { warnings } from "./preview.js";
import { rollbackControl } from "./rollback.js";

const STATUS_TEXT = { pending: "waiting", running: "running", completed: "completed", skipped: "skipped", failed: "failed" };

export class ExecutionView {
  /** `skills`: id -> metadata (for the step list before events arrive); `onEnd()` when a stream is over. */
  constructor(target, { skills, onEnd = () => {} }) {
    this.target = target;
    this.skills = skills;
    this.onEnd = onEnd;
    this.abort = null;
  }

  get active() {
    return this.abort !== null;
  }

  /**
   * Start a run; rejects with the ApiError (e.g. 422 with field errors) before rendering
   * anything. `onStarted()` runs once the stream is open.
   */
  async start(request, onStarted = () => {}) {
    const controller = new AbortController();
    const response = await openStream("/api/execute-skill", { method: "POST", body: request, signal: controller.signal });
    this.render(this.skills.get(request.skillId), request.parameters);
    onStarted();
    await this.consume(response, controller);
  }

  /** Follow an existing run's stream, from its start or after `lastEventId`. */
  async attach(executionId, lastEventId = null) {
    const controller = new AbortController();
    const headers = lastEventId === null ? {} : { "Last-Event-ID": String(lastEventId) };
    const response = await openStream(`/api/executions/${encodeURIComponent(executionId)}/events`, { headers, signal: controller.signal });
    if (lastEventId === null) this.render(null);
    else this.outcome.replaceChildren();
    await this.consume(response, controller);
  }

  stop() {
    this.abort?.abort();
    this.abort = null;
  }

  /** A fresh panel; step names with `{parameter}` placeholders are filled from `parameters`. */
  render(skill, parameters = {}) {
    this.stop();
    this.executionId = null;
    this.lastEventId = null;
    this.progress = 0;
    this.finished = false;
    this.steps = new Map();
    // Each step's measured median, until the step is done: the sum is the time remaining.
    this.remaining = new Map(Object.entries(skill?.measuredTime?.stepP50Seconds ?? {}));
    this.status = h("span", { class: "badge running" }, "starting");
    this.title = h("span", {}, skill?.name ?? "Execution");
    this.meta = h("p", { class: "muted small meta" });
    this.bar = h("div", { class: "bar-fill" });
    this.progressBar = h("div", { class: "bar", role: "progressbar", "aria-label": "Progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0 }, this.bar);
    this.progressText = h("p", { class: "progress-text", "aria-live": "polite" }, "Starting…");
    this.cancelButton = h("button", { type: "button", class: "danger", onclick: () => this.cancel() }, "Cancel");
    this.prefectLink = h("span");
    this.prompt = h("div", { class: "confirm", hidden: true, role: "region", "aria-label": "Confirmation", "aria-live": "assertive" });
    this.stepList = h("ol", { class: "steps" });
    this.outcome = h("div", { class: "outcome", "aria-live": "polite" });
    for (const step of skill?.steps ?? []) this.step(step.id, step.name.replace(/\{(\w+)\}/g, (placeholder, name) => parameters[name] ?? placeholder));
    fill(this.target,
      h("div", { class: "panel-head" }, h("h2", {}, this.title, " ", this.status), h("div", { class: "toolbar" }, this.prefectLink, this.cancelButton)),
      this.meta,
      h("div", { class: "progress" }, this.progressBar, this.progressText),
      this.prompt,
      this.stepList,
      this.outcome);
    this.target.hidden = false;
  }

  async consume(response, controller) {
    this.abort = controller;
    try {
      for await (const event of readEvents(response)) {
        if (event.id !== null) this.lastEventId = event.id;
        this.handle(event.data);
      }
    } catch (error) {
      if (error.name === "AbortError") return;
    } finally {
      if (this.abort === controller) this.abort = null;
    }
    if (!this.finished) this.interrupted();
    this.onEnd();
  }

  handle(event) {
    const handler = {
      started: () => this.started(event),
      step_progress: () => this.stepState(event, "running"),
      step_completed: () => this.stepState(event, "completed", [formatMs(event.durationMs), plural(event.filesCreated, "file")]),
      step_skipped: () => this.stepState(event, "skipped", [], event.reason),
      step_failed: () => this.failed(event),
      awaiting_confirmation: () => this.awaitConfirmation(event),
      log: () => this.log(event),
      complete: () => this.complete(event),
      error: () => this.error(event),
      cancelled: () => this.cancelled(event),
    }[event.type];
    handler?.();
  }

  started(event) {
    this.executionId = event.executionId;
    if (event.skillName) this.title.textContent = event.skillName;
    const skill = this.skills.get(event.skillId);
    if (!this.steps.size) for (const step of skill?.steps ?? []) this.step(step.id, step.name);
    if (!this.remaining.size) this.remaining = new Map(Object.entries(skill?.measuredTime?.stepP50Seconds ?? {}));
    fill(this.meta, "Execution ", h("code", {}, event.executionId), ` · ${plural(event.totalSteps, "step")}`);
    fill(this.prefectLink, event.prefectUrl ? h("a", { href: event.prefectUrl, target: "_blank", rel: "noopener" }, "Open in Prefect UI") : null);
    this.setStatus("running");
  }

  step(id, name) {
    if (!this.steps.has(id)) {
      const row = {
        element: h("li", { class: "step pending", "data-step": id }),
        icon: h("span", { class: "step-icon", "aria-hidden": "true" }),
        name: h("span", { class: "step-name" }, name),
        state: h("span", { class: "step-state" }, STATUS_TEXT.pending),
        detail: h("div", { class: "step-detail" }),
        logLines: null,
      };
      row.element.append(h("div", { class: "step-line" }, row.icon, row.name, row.state), row.detail);
      this.stepList.append(row.element);
      this.steps.set(id, row);
    }
    const row = this.steps.get(id);
    if (name) row.name.textContent = name;
    return row;
  }

  stepState(event, state, facts = [], reason = null) {
    const row = this.step(event.stepId, event.stepName);
    row.element.className = `step ${state}`;
    row.state.textContent = [STATUS_TEXT[state], ...facts.filter(Boolean)].join(" · ");
    if (reason) row.detail.prepend(h("p", { class: "reason" }, reason));
    if (state !== "running") this.remaining.delete(event.stepId);
    this.hidePrompt();
    this.advance(event.progress, event.stepName);
  }

  failed(event) {
    const row = this.step(event.stepId, event.stepName);
    const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : "";
    this.stepState(event, "failed", [event.critical ? "critical" : "non-critical, continuing"]);
    row.detail.append(h("div", { class: "failure" }, h("p", {}, `${event.error}${attempt}`), suggestions(event.suggestions)));
  }

  log(event) {
    const row = this.step(event.stepId || "run", this.steps.has(event.stepId) ? null : event.stepId || "Run");
    if (!row.logLines) {
      row.logLines = h("pre", { class: "log-lines" });
      row.logSummary = h("summary", {});
      row.logCount = 0;
      row.detail.append(h("details", { class: "log" }, row.logSummary, row.logLines));
    }
    const lines = event.message.split("\n");
    row.logCount += lines.length;
    row.logLines.append(`${event.message}\n`);
    row.logSummary.textContent = `Log (${plural(row.logCount, "line")})`;
  }

  advance(progress, stepName) {
    if (typeof progress === "number") this.progress = Math.max(this.progress, Math.round(progress));
    this.bar.style.width = `${this.progress}%`;
    this.progressBar.setAttribute("aria-valuenow", String(this.progress));
    const left = this.finished ? "" : timeLeft(this.remaining);
    this.progressText.textContent = (stepName ? `${this.progress}% — ${stepName}` : `${this.progress}%`) + left;
  }

  awaitConfirmation(event) {
    const answer = async (proceed) => {
      for (const button of this.prompt.querySelectorAll("button")) button.disabled = true;
      try {
        await apiJson(`/api/executions/${this.executionId}/confirm`, { method: "POST", body: { proceed } });
        fill(this.prompt, h("p", { class: "muted" }, proceed ? "Continuing…" : "Stopping…"));
      } catch (error) {
        fill(this.prompt, h("p", { class: "banner bad", role: "alert" }, error.message));
      }
    };
    this.setStatus("paused");
    fill(this.prompt,
      h("p", { class: "confirm-question" }, "Ready to run ", h("strong", {}, event.stepName || `step ${event.stepIndex}`), "?"),
      warnings(event.warnings),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: () => answer(true) }, "Proceed"),
        h("button", { type: "button", onclick: () => answer(false) }, "Stop")));
    this.prompt.hidden = false;
    this.prompt.querySelector("button.primary").focus();
  }

  hidePrompt() {
    this.prompt.hidden = true;
    this.prompt.replaceChildren();
    if (!this.finished) this.setStatus("running");
  }

  async cancel() {
    if (!this.executionId) return;
    this.cancelButton.disabled = true;
    try {
      await apiJson(`/api/executions/${this.executionId}/cancel`, { method: "POST" });
      this.progressText.textContent = `${this.progress}% — cancelling…`;
    } catch (error) {
      this.cancelButton.disabled = false;
      this.outcome.append(h("p", { class: "banner bad", role: "alert" }, error.message));
    }
  }

  complete(event) {
    this.end("completed");
    this.advance(100, "complete");
    const output = h("div", { class: "rollback-output" });
    fill(this.outcome, h("div", { class: "banner ok completion" },
      h("h3", {}, "Execution complete"),
      details([
        ["Execution ID", h("code", {}, event.executionId)],
        ["Duration", event.duration],
        ["Files created", event.filesCreated === undefined ? null : String(event.filesCreated)],
        ["Output", event.outputPath ? h("code", {}, event.outputPath) : null],
        ["Rollback token", event.rollbackToken ? h("code", { class: "rollback-token" }, event.rollbackToken) : null],
        ["Prefect", this.prefectLink.firstChild ? this.prefectLink.firstChild.cloneNode(true) : null],
      ]),
      event.rollbackToken ? rollbackControl(event.rollbackToken, { show: (node) => fill(output, node) }) : null,
      output));
  }

  error(event) {
    this.end("failed");
    fill(this.outcome, h("div", { class: "banner bad", role: "alert" },
      h("h3", {}, "Execution failed"),
      h("p", {}, event.error),
      suggestions(event.suggestions),
      h("p", { class: "muted small" }, event.rolledBack ? "Every change this run made was rolled back." : "Changes were not rolled back automatically.")));
  }

  cancelled(event) {
    this.end("cancelled");
    fill(this.outcome, h("div", { class: "banner warn" },
      h("h3", {}, "Execution cancelled"),
      h("p", {}, event.rolledBack ? "Every change this run made was rolled back." : "The run was stopped.")));
  }

  end(status) {
    this.finished = true;
    this.hidePrompt();
    this.setStatus(status);
    this.cancelButton.hidden = true;
  }

  interrupted() {
    const executionId = this.executionId;
    fill(this.outcome, h("div", { class: "banner warn", role: "alert" },
      h("p", {}, "The connection to the run was lost; the run goes on without it."),
      executionId ? h("button", { type: "button", onclick: () => this.attach(executionId, this.lastEventId) }, "Re-attach") : null));
  }

  setStatus(status) {
    this.status.className = `badge ${status}`;
    this.status.textContent = status;
  }
}

function suggestions(items) {
  return items?.length ? h("div", { class: "suggestions" }, h("strong", {}, "Suggestions"), list(items)) : null;
}

/** " · about 12 s left", from the measured medians of the steps not done yet; "" when unknown. */
function timeLeft(remaining) {
  if (!remaining.size) return "";
  const seconds = [...remaining.values()].reduce((sum, value) => sum + value, 0);
  return ` · about ${formatSeconds(seconds)} left`;
}

function formatMs(ms) {
  if (typeof ms !== "number") return null;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function plural(count, noun) {
  if (typeof count !== "number") return null;
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
