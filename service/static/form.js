// The config panel: one field per skill parameter, plus expertise level and persona.

import { h, fill } from "./dom.js";

export const LEVELS = [
  ["beginner", "Beginner", "confirm every step"],
  ["intermediate", "Intermediate", "pause once if there are warnings"],
  ["expert", "Expert", "never pause"],
];
export const PERSONAS = [
  ["ai-engineer", "AI Engineer"],
  ["architect", "Architect"],
  ["security", "Security"],
  ["devops", "DevOps"],
  ["full-stack", "Full-Stack"],
];
const DEFAULT_LEVEL = "intermediate";
const DEFAULT_PERSONA = "full-stack";

/** A `when:` clause, read as the server reads it: `flag`, `not flag`, `name == value`, `name != value`. */
export function parseCondition(source) {
  const match = /^\s*(not\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:(==|!=)\s*(.+?))?\s*$/.exec(source);
  if (!match) return () => true;
  const [, negate, parameter, operator, raw] = match;
  const expected = raw === undefined ? undefined : scalar(raw);
  return (values) => {
    const actual = values[parameter];
    const result = operator === "==" ? actual === expected : operator === "!=" ? actual !== expected : Boolean(actual);
    return result !== Boolean(negate);
  };
}

function scalar(raw) {
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  if (quoted) return quoted[2];
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === "true";
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/**
 * The form of one skill. `values()` gives the parameters to send (hidden conditional ones
 * left out) or throws a list of field errors the browser can already tell.
 */
export class ParameterForm {
  /** `skill`: `{parameters}` as the API describes them (a workflow's inputs have the same shape);
   * `idPrefix` keeps element ids unique when two forms are on the page; `emptyText` is shown when there are none. */
  constructor(skill, { idPrefix = "", emptyText = "This skill takes no parameters." } = {}) {
    this.container = h("div", { class: "parameter-form" });
    this.skill = skill;
    this.idPrefix = idPrefix;
    this.emptyText = emptyText;
    this.fields = new Map();
    this.render();
  }

  render() {
    const parameters = Object.entries(this.skill.parameters);
    fill(
      this.container,
      h("fieldset", { class: "parameters" },
        h("legend", {}, "Parameters"),
        parameters.length ? parameters.map(([name, spec]) => this.field(name, spec)) : h("p", { class: "muted" }, this.emptyText)),
      h("fieldset", { class: "levels" },
        h("legend", {}, "Expertise level"),
        h("div", { class: "segmented" }, LEVELS.map(([value, label, hint]) => h("label", { class: "segment", title: hint },
          h("input", { type: "radio", name: `${this.idPrefix}level`, "data-level": "", value, checked: value === DEFAULT_LEVEL }),
          h("span", {}, label)))),
        h("p", { class: "hint", "data-level-hint": "" }),
        h("p", { class: "field-error", id: this.fieldId("level-error"), role: "alert" })),
      this.row("persona", null, "Persona", h("select", { id: this.fieldId("persona"), name: "persona" },
        PERSONAS.map(([value, label]) => h("option", { value, selected: value === DEFAULT_PERSONA }, label)))),
    );
    this.levelHint();
    this.container.addEventListener("change", (event) => {
      if (event.target.dataset.level !== undefined) this.levelHint();
      this.applyConditions();
    });
    this.container.addEventListener("input", (event) => this.clearError(event.target.name));
    this.applyConditions();
  }

  field(name, spec) {
    const id = this.fieldId(name);
    const describedBy = `${id}-help ${id}-error`;
    let control;
    if (spec.type === "boolean") {
      control = h("input", { type: "checkbox", id, name, checked: Boolean(spec.default), "aria-describedby": describedBy });
    } else if (spec.type === "select") {
      control = h("select", { id, name, "aria-describedby": describedBy },
        spec.options.map((option) => h("option", { value: String(option), selected: option === spec.default },
          option === spec.recommended ? `${option} (recommended)` : String(option))));
    } else if (spec.type === "list") {
      control = h("textarea", { id, name, rows: 6, spellcheck: "false", class: "code", "aria-describedby": describedBy });
      control.value = JSON.stringify(spec.default ?? [], null, 2);
    } else if (spec.type === "number") {
      control = h("input", { type: "number", id, name, step: "any", value: spec.default ?? "", "aria-describedby": describedBy });
    } else {
      control = h("input", {
        type: "text", id, name, autocomplete: "off", spellcheck: "false", required: spec.required,
        pattern: spec.pattern ? htmlPattern(spec.pattern) : null, value: spec.default ?? "",
        placeholder: spec.type === "path" ? "folder inside the workspace" : null, "aria-describedby": describedBy,
      });
    }
    const help = spec.type === "path" ? "A folder inside the workspace."
      : spec.type === "list" ? "A JSON list."
      : spec.pattern ? `Must match ${spec.pattern}` : "";
    return this.row(name, spec, spec.description || name, control, help);
  }

  row(name, spec, label, control, help = "") {
    const inline = control.type === "checkbox";
    const labelText = [label, spec?.required ? h("span", { class: "required", title: "required" }, " *") : null];
    const row = h("div", { class: inline ? "field inline" : "field", "data-field": name },
      inline ? h("label", { for: control.id }, control, h("span", {}, labelText)) : [h("label", { for: control.id }, labelText), control],
      help ? h("small", { class: "help", id: `${control.id}-help` }, help) : null,
      h("p", { class: "field-error", id: `${control.id}-error`, role: "alert" }));
    this.fields.set(name, { spec, control, row });
    return row;
  }

  levelHint() {
    const level = this.level;
    this.container.querySelector("[data-level-hint]").textContent = LEVELS.find(([value]) => value === level)[2];
  }

  get level() {
    return this.container.querySelector("input[data-level]:checked").value;
  }

  get persona() {
    return this.container.querySelector(`#${this.fieldId("persona")}`).value;
  }

  /** Show a parameter with a `when:` only while its condition holds on the current values. */
  applyConditions() {
    const current = this.rawValues();
    for (const [name, { spec, row }] of this.fields) {
      if (!spec?.when) continue;
      row.hidden = !parseCondition(spec.when)(current);
    }
  }

  rawValues() {
    const values = {};
    for (const [name, { spec, control }] of this.fields) {
      if (!spec) continue;
      if (spec.type === "boolean") values[name] = control.checked;
      else if (spec.type === "select") values[name] = spec.options.find((option) => String(option) === control.value);
      else values[name] = control.value;
    }
    return values;
  }

  /** The parameters to send; throws `[{field, reason, hint}]` for what cannot be sent at all. */
  values() {
    const raw = this.rawValues();
    const values = {};
    const errors = [];
    for (const [name, { spec, row }] of this.fields) {
      if (!spec || row.hidden) continue;
      const value = raw[name];
      if (spec.type === "list") {
        try {
          values[name] = JSON.parse(value || "[]");
        } catch (error) {
          errors.push({ field: name, reason: `not valid JSON: ${error.message}`, hint: "write a JSON list, e.g. [\"a\", \"b\"]" });
        }
      } else if (spec.type === "number") {
        if (value !== "") values[name] = Number(value);
      } else if (typeof value === "string") {
        if (value !== "" || spec.required) values[name] = value;
      } else {
        values[name] = value;
      }
    }
    if (errors.length) throw errors;
    return values;
  }

  /** Put each error next to its field; returns the ones that belong to no field. */
  showErrors(errors) {
    this.clearErrors();
    const unplaced = [];
    for (const error of errors) {
      const name = error.field.replace(/^parameters\./, "");
      const target = this.container.querySelector(`#${CSS.escape(this.fieldId(name))}-error`);
      if (!target) {
        unplaced.push(error);
        continue;
      }
      const hint = error.hint && error.hint !== this.fields.get(name)?.spec?.description ? error.hint : "";
      target.textContent = hint ? `${error.reason} — ${hint}` : error.reason;
      target.closest(".field")?.classList.add("invalid");
      this.container.querySelector(`#${CSS.escape(this.fieldId(name))}`)?.setAttribute("aria-invalid", "true");
    }
    this.container.querySelector(".invalid input, .invalid select, .invalid textarea")?.focus();
    return unplaced;
  }

  clearError(name) {
    if (!name) return;
    const target = this.container.querySelector(`#${CSS.escape(this.fieldId(name))}-error`);
    if (target) target.textContent = "";
    target?.closest(".field")?.classList.remove("invalid");
    this.container.querySelector(`#${CSS.escape(this.fieldId(name))}`)?.removeAttribute("aria-invalid");
  }

  fieldId(name) {
    return `${this.idPrefix}field-${name}`;
  }

  clearErrors() {
    for (const name of [...this.fields.keys(), "level"]) this.clearError(name);
  }
}

// The browser anchors `pattern` itself and compiles it with the `v` flag, where a bare "-"
// in a character class is an error: drop the anchors and escape such dashes.
function htmlPattern(pattern) {
  const body = pattern.replace(/^\^/, "").replace(/\$$/, "").replace(/-\]/g, "\\-]");
  try {
    new RegExp(`^(?:${body})$`, "v");
    return body;
  } catch {
    return null;
  }
}
