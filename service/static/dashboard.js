// The dashboard: skills in the sidebar, the config panel, dry run, execution, workflows, history.
// A client of the same REST API and SSE events as the CLI.

import { apiJson, onTokenNeeded, ApiError } from "./api.js";
import { h, fill, list, titleCase, formatSeconds } from "./dom.js";
import { AnalyticsView } from "./analytics.js";
import { ExecutionView } from "./execution.js";
import { ParameterForm } from "./form.js";
import { HistoryView } from "./history.js";
import { MarketplaceView } from "./marketplace.js";
import { renderPreview } from "./preview.js";
import { WorkflowView } from "./workflow.js";

const CATEGORY_ORDER = ["frontend", "devops", "backend", "security", "cicd"];
const CATEGORY_NAMES = { devops: "DevOps", cicd: "CI/CD" };

const $ = (selector) => document.querySelector(selector);
const skills = new Map();
let form = null;

const execution = new ExecutionView($("#execution"), { skills, onEnd: () => updateButtons() });
const history = new HistoryView($("#history-panel"), { onAttach: (id, record) => reattach(id, record) });
const marketplace = new MarketplaceView($("#marketplace-panel"));
const workflows = new WorkflowView($("#workflows-panel"));
const analytics = new AnalyticsView($("#analytics-panel"));

onTokenNeeded(askForToken);
$("#dry-run").addEventListener("click", dryRun);
$("#config-form").addEventListener("submit", (event) => {
  event.preventDefault();
  dryRun();
});
$("#execute").addEventListener("click", execute);
for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => showTab(tab.id));
loadSkills();

async function loadSkills() {
  try {
    const catalog = await apiJson("/api/skill-metadata");
    for (const skill of catalog.skills) skills.set(skill.id, skill);
    renderSidebar(catalog.skills);
    renderLoadProblems(catalog.problems ?? []);
  } catch (error) {
    fill($("#skill-list"), h("p", { class: "banner bad", role: "alert" }, `Could not load skills: ${error.message}`));
  }
}

function renderSidebar(all) {
  const categories = [...new Set(all.map((skill) => skill.category))].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b));
  fill($("#skill-list"), categories.map((category) => h("section", { class: "category" },
    h("h2", {}, CATEGORY_NAMES[category] ?? titleCase(category)),
    h("ul", {}, all.filter((skill) => skill.category === category).map((skill) => h("li", {},
      h("button", { type: "button", class: "skill", "data-skill": skill.id, onclick: () => selectSkill(skill.id) },
        h("span", { class: "skill-name" }, skill.name),
        h("span", { class: "skill-time" }, skill.estimatedTime))))))));
}

/** Skill folders that failed to load (a dev folder's broken edit, say): shown above the list. */
function renderLoadProblems(problems) {
  if (!problems.length) return;
  $("#skill-list").prepend(h("div", { class: "banner bad", role: "alert", id: "load-problems" },
    h("strong", {}, `${problems.length} skill folder(s) failed to load`),
    h("ul", {}, problems.map((problem) => h("li", {},
      `${problem.folder} (${problem.source}): ${problem.error}`,
      problem.servingPrevious ? ` — still serving the last good version of ${problem.skillId}` : "")))));
}

function rank(category) {
  const index = CATEGORY_ORDER.indexOf(category);
  return index < 0 ? CATEGORY_ORDER.length : index;
}

function selectSkill(id) {
  const skill = skills.get(id);
  for (const button of document.querySelectorAll("button.skill")) {
    if (button.dataset.skill === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
  form = new ParameterForm(skill);
  fill($("#skill-summary"),
    h("h2", { id: "skill-title" }, skill.name),
    h("p", { class: "muted" }, skill.description),
    h("p", { class: "chips" },
      h("span", { class: "chip" }, CATEGORY_NAMES[skill.category] ?? titleCase(skill.category)),
      h("span", { class: "chip" }, `about ${skill.estimatedTime}`),
      skill.measuredTime ? h("span", { class: "chip measured" }, `measured p50 ${formatSeconds(skill.measuredTime.p50Seconds)}`) : null,
      h("span", { class: "chip" }, `${skill.totalSteps} steps, ${skill.criticalSteps} critical`),
      skill.source === "builtin" ? null : h("span", { class: "chip", title: `sha256 ${skill.digest}` },
        `${skill.source} ${skill.version}, ${skill.trust}${skill.publisher ? ` by ${skill.publisher}` : ""}${skill.sandboxed ? ", sandboxed" : ""}`),
      skill.estimatedFiles ? h("span", { class: "chip" }, `${skill.estimatedFiles} files`) : null));
  fill($("#parameters"), form.container);
  $("#empty-state").hidden = true;
  $("#config-form").hidden = false;
  $("#preview").hidden = true;
  $("#form-alert").replaceChildren();
  showTab("tab-run");
  form.container.querySelector("input, select, textarea")?.focus();
}

function request() {
  return { skillId: form.skill.id, parameters: form.values(), level: form.level, persona: form.persona };
}

/** The request, or null after showing the errors the browser can already tell. */
function checkedRequest() {
  $("#form-alert").replaceChildren();
  try {
    return request();
  } catch (errors) {
    if (!Array.isArray(errors)) throw errors;
    form.showErrors(errors);
    return null;
  }
}

async function dryRun() {
  const body = checkedRequest();
  if (!body) return;
  busy($("#dry-run"), "Checking…");
  try {
    const result = await apiJson("/api/validate-skill", { method: "POST", body });
    const unplaced = form.showErrors(result.errors);
    renderPreview($("#preview"), result, unplaced);
  } catch (error) {
    showFailure(error);
  } finally {
    updateButtons();
  }
}

async function execute() {
  const body = checkedRequest();
  if (!body) return;
  form.clearErrors();
  busy($("#execute"), "Running…");
  try {
    await execution.start(body, () => { $("#preview").hidden = true; });
  } catch (error) {
    showFailure(error);
  } finally {
    updateButtons();
  }
}

async function reattach(id, record) {
  const workflow = record?.kind === "workflow";
  showTab(workflow ? "tab-workflows" : "tab-run");
  try {
    await (workflow ? workflows.attach(id) : execution.attach(id));
  } catch (error) {
    showFailure(error);
  }
}

function showFailure(error) {
  if (!(error instanceof ApiError)) {
    fill($("#form-alert"), h("p", { class: "banner bad" }, `Request failed: ${error.message}`));
    return;
  }
  const unplaced = form ? form.showErrors(error.fieldErrors) : error.fieldErrors;
  const warnings = error.body.details?.warnings ?? [];
  fill($("#form-alert"), h("div", { class: "banner bad" },
    h("p", {}, error.status === 422 && error.fieldErrors.length ? "Fix the highlighted fields, then try again." : error.message),
    list(unplaced.map((issue) => `${issue.field}: ${issue.reason}${issue.hint ? ` — ${issue.hint}` : ""}`)),
    list(warnings),
    list(error.suggestions)));
}

function busy(button, text) {
  button.disabled = true;
  button.dataset.label ??= button.textContent;
  button.textContent = text;
}

function updateButtons() {
  for (const button of [$("#dry-run"), $("#execute")]) {
    if (button.dataset.label) button.textContent = button.dataset.label;
    button.disabled = false;
  }
  $("#execute").disabled = execution.active;
}

function showTab(id) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const selected = tab.id === id;
    tab.setAttribute("aria-selected", String(selected));
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
  }
  if (id === "tab-history") history.load();
  if (id === "tab-marketplace") marketplace.load();
  if (id === "tab-workflows") workflows.load();
  if (id === "tab-analytics") analytics.load();
}

let pendingToken = null;

/** Ask once for the API token, however many calls answered 401 meanwhile. */
function askForToken(message) {
  pendingToken ??= new Promise((resolve) => {
    const dialog = $("#token-dialog");
    const input = $("#token-input");
    $("#token-message").textContent = message;
    input.value = "";
    dialog.addEventListener("close", () => {
      pendingToken = null;
      resolve(dialog.returnValue === "save" && input.value.trim() ? input.value.trim() : null);
    }, { once: true });
    dialog.showModal();
  });
  return pendingToken;
}
