// Building DOM nodes without innerHTML, so nothing from the API is ever parsed as markup.

/**
 * `h("button", {class: "primary", onclick: go}, "Run")`: an element with attributes,
 * event handlers (`on...`), boolean properties and children (strings, nodes, arrays; null skipped).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A `<dl>` of label/value pairs; pairs whose value is null or undefined are left out. */
export function details(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, value]) => value !== null && value !== undefined).map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]),
  );
}

/** A bulleted list, or nothing for an empty one. */
export function list(items, attributes = {}) {
  return items?.length ? h("ul", attributes, items.map((item) => h("li", {}, item))) : null;
}

export function titleCase(text) {
  return text.replace(/(^|[-_ ])(\w)/g, (_, gap, letter) => (gap ? " " : "") + letter.toUpperCase());
}

/** "2 minutes ago"-style phrasing is vague for a log; show local date and time instead. */
export function localTime(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

/** A duration for people: "850 ms", "3.2 s", "4.5 min". */
export function formatSeconds(seconds) {
  if (typeof seconds !== "number") return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}
