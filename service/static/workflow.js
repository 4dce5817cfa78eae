// The Workflows tab: pick a workflow (or edit its spec), fill its inputs, validate it — every
// problem shown on the graph next to its node — and run it, with each node's live state from
// the SSE events and the same confirm, cancel and rollback controls as a skill run.

import { apiJson, openStream, readEvents, ApiError } from "./api.js";
import { h, fill, details, list } from "./dom.js";
import { DagView } from "./dag.js";
import { ParameterForm } from "./form.js";
import { warnings } from "./preview.js";
import { rollbackControl } from "./rollback.js";

export class WorkflowView {
  constructor(target) {
    this.target = target;
    this.loaded = false;
    this.abort = null;
    this.executionId = null;
  }

  /** Render the tab on first use: the existing skill form keeps its labels unique until then. */
  async load() {
    if (!this.loaded) this.render();
    this.loaded = true;
    try {
      const { workflows } = await apiJson("/api/workflows");
      const chosen = this.current?.id;
      fill(this.list, workflows.map((workflow) => h("li", {},
        h("button", { type: "button", class: "skill", "data-workflow": workflow.id, "aria-current": workflow.id === chosen ? "true" : null,
          onclick: () => this.select(workflow.id) },
        h("span", { class: "skill-name" }, workflow.name),
        h("span", { class: "skill-time" }, `${workflow.source} · ${workflow.id}`)))));
    } catch (error) {
      fill(this.list, h("li", { class: "banner bad", role: "alert" }, `Could not load workflows: ${error.message}`));
    }
  }

  render() {
    this.list = h("ul", { class: "workflow-list", "aria-label": "Workflows" });
    this.heading = h("div", { class: "workflow-heading" }, h("h2", {}, "Workflows"), h("p", { class: "muted" }, "Choose a workflow to see its graph."));
    this.formSlot = h("div");
    this.specEditor = h("textarea", { id: "workflow-spec", rows: 14, spellcheck: "false", class: "code", "aria-label": "Workflow spec (JSON)",
      onchange: () => this.specEdited() });
    this.alert = h("div", { role: "alert", id: "workflow-alert" });
    this.validateButton = h("button", { type: "button", id: "workflow-validate", onclick: () => this.validate() }, "Validate");
    this.runButton = h("button", { type: "button", id: "workflow-run", class: "primary", onclick: () => this.run() }, "Run workflow");
    this.form = h("form", { id: "workflow-form", hidden: true, novalidate: true, onsubmit: (event) => { event.preventDefault(); this.validate(); } },
      this.formSlot,
      h("details", { class: "spec-editor" }, h("summary", {}, "Spec (JSON) — edit to validate or run a changed workflow"), this.specEditor),
      this.alert,
      h("div", { class: "actions" }, this.validateButton, this.runButton));
    this.summary = h("p", { class: "muted small", id: "workflow-summary", role: "status" });
    this.graph = h("div", { class: "dag-scroll", id: "workflow-graph" });
    this.dag = new DagView(this.graph);
    this.problems = h("div", { id: "workflow-problems" });
    this.execution = h("section", { id: "workflow-execution", class: "panel", hidden: true, "aria-label": "Workflow execution" });
    fill(this.target, h("div", { class: "workflow-page" },
      h("div", { class: "panel workflow-config" }, this.heading, h("h3", {}, "Available"), this.list, this.form),
      h("div", { class: "output" },
        h("section", { class: "panel", "aria-label": "Workflow graph" }, h("h2", {}, "Graph"), this.summary, this.problems, this.graph),
        this.execution)));
  }

  async select(id) {
    for (const button of this.list.querySelectorAll("button[data-workflow]")) {
      if (button.dataset.workflow === id) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
    this.alert.replaceChildren();
    try {
      const saved = await apiJson(`/api/workflows/${encodeURIComponent(id)}`);
      this.current = { id, spec: saved.spec, text: JSON.stringify(saved.spec, null, 2) };
    } catch (error) {
      this.showFailure(error);
      return;
    }
    this.specEditor.value = this.current.text;
    this.form.hidden = false;
    this.show(this.current.spec);
  }

  /** The heading, inputs and graph of `spec` (the saved one, or the editor's once it parses). */
  show(spec) {
    fill(this.heading, h("h2", { id: "workflow-title" }, spec.name ?? spec.id ?? this.current.id), h("p", { class: "muted" }, spec.description ?? ""));
    this.inputs = new ParameterForm({ parameters: spec.parameters ?? {} }, { idPrefix: "workflow-", emptyText: "This workflow takes no inputs." });
    fill(this.formSlot, this.inputs.container);
    this.summary.textContent = `${spec.nodes?.length ?? 0} nodes. Validate to see the plan and any problems.`;
    this.problems.replaceChildren();
    this.dag.draw(spec);
  }

  specEdited() {
    try {
      const spec = JSON.parse(this.specEditor.value);
      if (spec && typeof spec === "object") this.show(spec);
      this.alert.replaceChildren();
    } catch (error) {
      fill(this.alert, h("p", { class: "banner bad" }, `The spec is not valid JSON: ${error.message}`));
    }
  }

  /** What to send: the saved workflow's id, or the edited spec; null after showing why neither can be sent. */
  request() {
    this.alert.replaceChildren();
    let inputs;
    try {
      inputs = this.inputs.values();
    } catch (errors) {
      if (!Array.isArray(errors)) throw errors;
      this.inputs.showErrors(errors);
      return null;
    }
    const base = { inputs, level: this.inputs.level, persona: this.inputs.persona };
    if (this.specEditor.value === this.current.text) return { ...base, workflowId: this.current.id };
    try {
      return { ...base, spec: JSON.parse(this.specEditor.value) };
    } catch (error) {
      fill(this.alert, h("p", { class: "banner bad" }, `The spec is not valid JSON: ${error.message}`));
      return null;
    }
  }

  specOf(request) {
    return request.spec ?? this.current.spec;
  }

  async validate() {
    const request = this.request();
    if (!request) return;
    this.busy(this.validateButton, "Checking…");
    try {
      const verdict = await apiJson("/api/workflows/validate", { method: "POST", body: request });
      this.showVerdict(this.specOf(request), verdict.problems, verdict.plan);
    } catch (error) {
      this.showFailure(error);
    } finally {
      this.idle();
    }
  }

  /** The graph with every problem next to its node; the workflow's own problems (and inputs') above it. */
  showVerdict(spec, problems, plan = null) {
    this.inputs.clearErrors();
    const inputProblems = problems.filter((problem) => !problem.nodeId && problem.field);
    const unplaced = this.inputs.showErrors(inputProblems.map((problem) => ({ field: problem.field, reason: problem.message, hint: "" })));
    const general = problems.filter((problem) => !problem.nodeId && !problem.field).concat(
      unplaced.map((issue) => ({ kind: "invalid_input", message: `${issue.field}: ${issue.reason}` })));
    fill(this.problems, general.length || problems.length
      ? h("div", { class: "banner bad" },
        h("p", {}, `${problems.length} problem${problems.length === 1 ? "" : "s"}: nothing was run.`),
        list(general.map((problem) => `${problem.kind}: ${problem.message}`)))
      : null);
    this.dag.draw(spec, problems);
    if (plan) {
      for (const [id, node] of Object.entries(plan.nodes)) {
        const files = node.files?.length ? `${node.files.length} files` : "";
        this.dag.setState(id, node.willRun === false ? "planned-skip" : node.willRun === null ? "run-time" : "planned", files);
      }
      this.summary.textContent = `Valid. ${plan.generations.length} generation${plan.generations.length === 1 ? "" : "s"} `
        + `(${plan.generations.map((generation) => generation.join(" + ")).join(" → ")}); critical path `
        + `${plan.criticalPath.join(" → ")}; about ${Math.round(plan.estimatedSeconds)} s.`;
    } else {
      this.summary.textContent = problems.length ? "Not valid: see the problems on the graph." : "";
    }
  }

  async run() {
    const request = this.request();
    if (!request) return;
    this.busy(this.runButton, "Running…");
    const controller = new AbortController();
    try {
      const response = await openStream("/api/workflows/execute", { method: "POST", body: request, signal: controller.signal });
      this.problems.replaceChildren();
      this.dag.draw(this.specOf(request));
      this.startPanel();
      await this.consume(response, controller);
    } catch (error) {
      if (error instanceof ApiError && error.body.details?.problems) this.showVerdict(this.specOf(request), error.body.details.problems);
      else this.showFailure(error);
    } finally {
      this.idle();
    }
  }

  /** Follow a workflow execution started elsewhere (the History tab's re-attach). */
  async attach(executionId) {
    if (!this.loaded) await this.load();
    const controller = new AbortController();
    const response = await openStream(`/api/executions/${encodeURIComponent(executionId)}/events`, { signal: controller.signal });
    this.startPanel();
    await this.consume(response, controller);
  }

  startPanel() {
    this.executionId = null;
    this.finished = false;
    this.status = h("span", { class: "badge running" }, "starting");
    this.meta = h("p", { class: "muted small meta" });
    this.cancelButton = h("button", { type: "button", class: "danger", onclick: () => this.cancel() }, "Cancel");
    this.prompt = h("div", { class: "confirm", hidden: true, role: "region", "aria-label": "Confirmation", "aria-live": "assertive" });
    this.outcome = h("div", { class: "outcome", "aria-live": "polite" });
    this.log = h("ol", { class: "workflow-events", "aria-label": "Workflow events" });
    fill(this.execution,
      h("div", { class: "panel-head" }, h("h2", {}, "Execution ", this.status), h("div", { class: "toolbar" }, this.cancelButton)),
      this.meta, this.prompt, this.outcome, h("details", { class: "log" }, h("summary", {}, "Events"), this.log));
    this.execution.hidden = false;
  }

  async consume(response, controller) {
    this.abort = controller;
    try {
      for await (const event of readEvents(response)) this.handle(event.data);
    } catch (error) {
      if (error.name === "AbortError") return;
      throw error;
    } finally {
      this.abort = null;
    }
    if (!this.finished) fill(this.outcome, h("p", { class: "banner warn", role: "alert" }, "The connection to the run was lost; the run goes on without it."));
  }

  handle(event) {
    const node = event.nodeId;
    const handler = {
      started: () => this.started(event),
      node_started: () => this.dag.setState(node, "running", event.skillId ?? ""),
      step_progress: () => node && this.dag.setState(node, this.dag.state(node) === "awaiting" ? "running" : this.dag.state(node), event.stepName ?? ""),
      step_completed: () => node && this.dag.setState(node, "running", event.stepName ?? ""),
      node_completed: () => this.dag.setState(node, "completed", ""),
      node_skipped: () => this.dag.setState(node, "skipped", event.reason ?? ""),
      node_failed: () => this.dag.setState(node, "failed", event.error ?? ""),
      awaiting_confirmation: () => this.awaitConfirmation(event),
      compensating: () => this.dag.setState(node, "compensating"),
      compensated: () => this.dag.setState(node, "compensated", event.conflicts?.length ? `${event.conflicts.length} conflicts kept` : `${event.undone?.length ?? 0} undone`),
      complete: () => this.complete(event),
      error: () => this.failed(event),
      cancelled: () => this.cancelled(event),
    }[event.type];
    handler?.();
    // A pause that is over (replayed on re-attach, or answered elsewhere) asks nothing any more.
    if (node && node === this.awaiting && event.type !== "awaiting_confirmation" && event.type !== "log") {
      this.hidePrompt();
    }
    if (event.type !== "log") this.log.append(h("li", {}, node ? `${node} · ${event.type}` : event.type, event.stepName ? ` · ${event.stepName}` : ""));
  }

  started(event) {
    this.executionId = event.executionId;
    // Re-attached from the History tab: the graph comes from the run's own list of nodes.
    if ((event.nodes ?? []).some((node) => !this.dag.nodes.has(node.id))) this.dag.draw({ nodes: event.nodes });
    fill(this.meta, `${event.workflowName ?? event.workflowId} · execution `, h("code", {}, event.executionId), ` · ${event.totalNodes} nodes`,
      event.prefectUrl ? [" · ", h("a", { href: event.prefectUrl, target: "_blank", rel: "noopener" }, "Open in Prefect UI")] : null);
    this.setStatus("running");
  }

  awaitConfirmation(event) {
    const target = event.executionId ?? this.executionId;
    const answer = async (proceed) => {
      for (const button of this.prompt.querySelectorAll("button")) button.disabled = true;
      try {
        await apiJson(`/api/executions/${encodeURIComponent(target)}/confirm`, { method: "POST", body: { proceed } });
        fill(this.prompt, h("p", { class: "muted" }, proceed ? "Continuing…" : "Stopping: what ran is being undone…"));
        this.dag.setState(event.nodeId, proceed ? "running" : "cancelled");
        this.setStatus("running");
      } catch (error) {
        fill(this.prompt, h("p", { class: "banner bad", role: "alert" }, error.message));
      }
    };
    this.awaiting = event.nodeId;
    this.dag.setState(event.nodeId, "awaiting", event.stepName ?? "");
    this.setStatus("paused");
    fill(this.prompt,
      // An approval node pauses the workflow itself (no step index); a step pause is inside a node's run.
      h("p", { class: "confirm-question" }, event.stepIndex == null
        ? ["Approve node ", h("strong", {}, event.nodeId), "?"]
        : ["Run ", h("strong", {}, event.stepName), " of node ", h("strong", {}, event.nodeId), "?"]),
      warnings(event.warnings),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: () => answer(true) }, "Approve"),
        h("button", { type: "button", onclick: () => answer(false) }, "Decline")));
    this.prompt.hidden = false;
    this.prompt.querySelector("button.primary").focus();
  }

  async cancel() {
    if (!this.executionId) return;
    this.cancelButton.disabled = true;
    try {
      await apiJson(`/api/executions/${encodeURIComponent(this.executionId)}/cancel`, { method: "POST" });
      this.setStatus("cancelling");
    } catch (error) {
      this.cancelButton.disabled = false;
      this.outcome.append(h("p", { class: "banner bad", role: "alert" }, error.message));
    }
  }

  complete(event) {
    this.end("completed");
    const report = h("div", { class: "rollback-output" });
    fill(this.outcome, h("div", { class: "banner ok completion" },
      h("h3", {}, "Workflow complete"),
      details([
        ["Execution ID", h("code", {}, event.executionId)],
        ["Duration", event.duration],
        ["Rollback token", event.rollbackToken ? h("code", { class: "rollback-token" }, event.rollbackToken) : null],
      ]),
      outputs(event.outputs),
      event.rollbackToken ? rollbackControl(event.rollbackToken, { show: (node) => fill(report, node), label: "Roll back every node" }) : null,
      report));
  }

  failed(event) {
    this.end("failed");
    fill(this.outcome, h("div", { class: "banner bad", role: "alert" },
      h("h3", {}, event.failedNode ? `Workflow failed in node ${event.failedNode}` : "Workflow failed"),
      h("p", {}, event.error),
      list(event.suggestions),
      h("p", { class: "muted small" }, event.rolledBack ? "The nodes that completed were undone, newest first." : "Changes were not undone automatically.")));
  }

  cancelled(event) {
    this.end("cancelled");
    fill(this.outcome, h("div", { class: "banner warn" },
      h("h3", {}, "Workflow cancelled"),
      h("p", {}, event.rolledBack ? "Every node that ran was undone." : "The run was stopped.")));
  }

  hidePrompt() {
    this.awaiting = null;
    this.prompt.hidden = true;
    this.prompt.replaceChildren();
  }

  end(status) {
    this.finished = true;
    this.hidePrompt();
    this.setStatus(status);
    this.cancelButton.hidden = true;
  }

  setStatus(status) {
    this.status.className = `badge ${status}`;
    this.status.textContent = status;
  }

  busy(button, text) {
    this.validateButton.disabled = this.runButton.disabled = true;
    button.dataset.label ??= button.textContent;
    button.textContent = text;
  }

  idle() {
    for (const button of [this.validateButton, this.runButton]) {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.disabled = false;
    }
  }

  showFailure(error) {
    const fieldErrors = error instanceof ApiError ? error.fieldErrors : [];
    const unplaced = this.inputs && fieldErrors.length ? this.inputs.showErrors(fieldErrors) : fieldErrors;
    fill(this.alert, h("div", { class: "banner bad" },
      h("p", {}, error.message),
      list(unplaced.map((issue) => `${issue.field}: ${issue.reason}`)),
      list(error instanceof ApiError ? error.suggestions : [])));
  }
}

function outputs(byNode) {
  const entries = Object.entries(byNode ?? {});
  return entries.length
    ? h("details", { class: "workflow-outputs" }, h("summary", {}, "Outputs"),
      h("ul", { class: "code-list" }, entries.map(([node, values]) => h("li", {}, h("strong", {}, node), " ", h("code", {}, JSON.stringify(values))))))
    : null;
}
