// Small SVG charts, drawn here and served with the page (no library, no CDN): stacked bars
// over days, lines over days, and ranked horizontal bars. Every mark carries a <title> (the
// browser shows it on hover) and every chart a text alternative.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 34, left: 48 };
export const PALETTE = ["#2456d6", "#1d7a46", "#b42318", "#8a5a00", "#6941c6", "#0e7490", "#c11574", "#4d5761"];

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) if (child) element.append(child);
  return element;
}

function titled(element, text) {
  element.append(svg("title", {}, text));
  return element;
}

function text(x, y, content, attributes = {}) {
  const element = svg("text", { x, y, ...attributes });
  element.textContent = content;
  return element;
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((bound) => bound >= value);
}

function frame(label, max, format) {
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const ticks = [0, 0.5, 1].map((share) => {
    const y = MARGIN.top + plotHeight * (1 - share);
    return [svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: "grid" }),
      text(MARGIN.left - 6, y + 4, format(max * share), { "text-anchor": "end", class: "tick" })];
  });
  return svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": label, class: "chart" }, ticks);
}

function xLabels(labels, x) {
  // At most about eight labels, evenly spread, so days never overlap.
  const every = Math.max(1, Math.ceil(labels.length / 8));
  return labels.map((label, index) => (index % every === 0
    ? text(x(index), HEIGHT - MARGIN.bottom + 16, label, { "text-anchor": "middle", class: "tick" }) : null));
}

export function legend(entries) {
  const items = entries.map(([name, color]) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = color;
    item.append(swatch, name);
    return item;
  });
  const list = document.createElement("ul");
  list.className = "legend";
  list.append(...items);
  return list;
}

/**
 * Stacked bars: `rows` are `{label, values: {key: number}}`, stacked in the order of `keys`
 * (`[[key, name, color], ...]`).
 */
export function stackedBars(rows, keys, label) {
  const totals = rows.map((row) => keys.reduce((sum, [key]) => sum + (row.values[key] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const chart = frame(label, max, (value) => String(Math.round(value)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = plotWidth / Math.max(rows.length, 1);
  const barWidth = Math.min(slot * 0.7, 48);
  const x = (index) => MARGIN.left + slot * (index + 0.5);
  rows.forEach((row, index) => {
    let base = HEIGHT - MARGIN.bottom;
    for (const [key, name, color] of keys) {
      const value = row.values[key] || 0;
      if (!value) continue;
      const height = (value / max) * plotHeight;
      base -= height;
      chart.append(titled(svg("rect", {
        x: x(index) - barWidth / 2, y: base, width: barWidth, height, fill: color, class: "mark", "data-key": key,
      }), `${row.label}: ${value} ${name}`));
    }
  });
  chart.append(...xLabels(rows.map((row) => row.label), x).filter(Boolean));
  return chart;
}

/** Lines over shared x labels: `series` are `{name, color, values: [number|null per label]}`. */
export function lines(labels, series, label, format) {
  const values = series.flatMap((one) => one.values.filter((value) => typeof value === "number"));
  const max = niceMax(Math.max(0, ...values));
  const chart = frame(label, max, format);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (index) => MARGIN.left + (labels.length > 1 ? (plotWidth * index) / (labels.length - 1) : plotWidth / 2);
  const y = (value) => MARGIN.top + plotHeight * (1 - value / max);
  for (const one of series) {
    const points = one.values.map((value, index) => (typeof value === "number" ? [x(index), y(value), value, labels[index]] : null));
    const drawn = points.filter(Boolean);
    if (drawn.length > 1) {
      chart.append(svg("polyline", { points: drawn.map(([px, py]) => `${px},${py}`).join(" "), fill: "none", stroke: one.color, "stroke-width": 2 }));
    }
    for (const [px, py, value, day] of drawn) {
      chart.append(titled(svg("circle", { cx: px, cy: py, r: 3.5, fill: one.color, class: "mark" }), `${one.name}, ${day}: ${format(value)}`));
    }
  }
  chart.append(...xLabels(labels, x).filter(Boolean));
  return chart;
}

/** Ranked horizontal bars: `items` are `{label, value, note}`, largest first, scaled to `max`. */
export function rankedBars(items, label, format, max = null) {
  const rowHeight = 26;
  const height = Math.max(items.length, 1) * rowHeight + 8;
  const labelWidth = 220;
  const top = max ?? niceMax(Math.max(0, ...items.map((item) => item.value)));
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-label": label, class: "chart" });
  items.forEach((item, index) => {
    const y = 4 + index * rowHeight;
    const width = ((WIDTH - labelWidth - 90) * item.value) / top;
    chart.append(
      text(labelWidth - 8, y + 16, item.label, { "text-anchor": "end", class: "tick" }),
      titled(svg("rect", { x: labelWidth, y: y + 3, width: Math.max(width, 1), height: rowHeight - 8, fill: item.color ?? PALETTE[0], class: "mark" }),
        `${item.label}: ${item.note ?? format(item.value)}`),
      text(labelWidth + Math.max(width, 1) + 6, y + 16, item.note ?? format(item.value), { class: "tick" }));
  });
  return chart;
}
