// A workflow's DAG drawn as SVG: nodes in columns by depth, edges from each dependency,
// each node's live state, and the validation problems that concern it right under it.

const SVG = "http://www.w3.org/2000/svg";
const XHTML = "http://www.w3.org/1999/xhtml";
const NODE_WIDTH = 210;
const NODE_HEIGHT = 66;
const GAP_X = 70;
const GAP_Y = 24;
const MARGIN = 16;
const PROBLEM_LINE = 15;
const PROBLEM_CHARS_PER_LINE = 32;
const ARC_ROOM = 28;  // above the nodes, for edges that point back (a cycle)

export const STATE_TEXT = {
  pending: "waiting", planned: "will run", "planned-skip": "will skip", "run-time": "decided at run time",
  running: "running", awaiting: "awaiting approval", completed: "completed", skipped: "skipped",
  failed: "failed", compensating: "undoing", compensated: "undone", cancelled: "cancelled",
};

/** `depends_on` as YAML writes it, `dependsOn` as a JSON body may. */
export function dependenciesOf(node) {
  return node.depends_on ?? node.dependsOn ?? [];
}

/**
 * Each node's column: 0 for a node without dependencies, else one more than its deepest
 * dependency. A dependency on a cycle (which validation reports) is not followed twice.
 */
export function columns(nodes) {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const column = new Map();
  const visiting = new Set();
  const depth = (id) => {
    if (column.has(id)) return column.get(id);
    if (visiting.has(id) || !byId.has(id)) return -1;
    visiting.add(id);
    const deepest = Math.max(-1, ...dependenciesOf(byId.get(id)).map(depth));
    visiting.delete(id);
    column.set(id, deepest + 1);
    return deepest + 1;
  };
  for (const node of nodes) depth(node.id);
  return column;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** Left to right: from the dependency's right side to the node's left side. */
function forwardPath(from, to) {
  const [x1, y1, x2, y2] = [from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2, to.x, to.y + NODE_HEIGHT / 2];
  const bend = Math.max(40, (x2 - x1) / 2);
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
}

/** Back to an earlier column (only a cycle does that): an arc over the nodes, top to top. */
function backwardPath(from, to) {
  const [x1, y1, x2, y2] = [from.x + NODE_WIDTH / 2, from.y, to.x + NODE_WIDTH / 2, to.y];
  const top = Math.min(y1, y2) - ARC_ROOM + 4;
  return `M ${x1} ${y1} C ${x1} ${top}, ${x2} ${top}, ${x2} ${y2}`;
}

function problemHeight(problems) {
  const lines = problems.reduce((sum, problem) => sum + Math.ceil((problem.kind.length + problem.message.length + 2) / PROBLEM_CHARS_PER_LINE), 0);
  return problems.length ? lines * PROBLEM_LINE + 10 : 0;
}

export class DagView {
  /** `target`: the element the SVG goes into. */
  constructor(target) {
    this.target = target;
    this.nodes = new Map();
  }

  /** Draw `spec.nodes`; `problems` (validation's) are listed under the nodes they name. */
  draw(spec, problems = []) {
    const nodes = (spec?.nodes ?? []).filter((node) => node && typeof node.id === "string");
    const column = columns(nodes);
    const problemsOf = (id) => problems.filter((problem) => problem.nodeId === id);
    const heights = new Map(nodes.map((node) => [node.id, NODE_HEIGHT + problemHeight(problemsOf(node.id))]));
    const position = new Map();
    const nextY = [];
    for (const node of nodes) {
      const c = column.get(node.id);
      const y = nextY[c] ?? MARGIN;
      position.set(node.id, { x: MARGIN + c * (NODE_WIDTH + GAP_X), y: y + ARC_ROOM });
      nextY[c] = y + heights.get(node.id) + GAP_Y;
    }
    const width = MARGIN * 2 + Math.max(1, ...[...column.values()].map((c) => c + 1)) * (NODE_WIDTH + GAP_X) - GAP_X;
    const height = ARC_ROOM + Math.max(NODE_HEIGHT + 2 * MARGIN, ...nextY.map((y) => y - GAP_Y + MARGIN));
    const graph = svg("svg", {
      class: "dag", viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
      "aria-label": `Workflow graph: ${nodes.length} node${nodes.length === 1 ? "" : "s"}`,
    }, svg("defs", {}, svg("marker", { id: "dag-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "dag-arrowhead" }))));
    const edges = svg("g", { class: "dag-edges" });
    graph.append(edges);
    this.nodes = new Map();
    for (const node of nodes) {
      const to = position.get(node.id);
      for (const dependency of dependenciesOf(node)) {
        const from = position.get(dependency);
        if (!from) continue;  // an unknown node: validation says so under this node
        const forwards = to.x > from.x;
        edges.append(svg("path", {
          class: forwards ? "dag-edge" : "dag-edge backwards", "data-from": dependency, "data-to": node.id, "marker-end": "url(#dag-arrow)",
          d: forwards ? forwardPath(from, to) : backwardPath(from, to),
        }));
      }
      graph.append(this.node(node, to, problemsOf(node.id)));
    }
    this.target.replaceChildren(graph);
  }

  node(node, { x, y }, problems) {
    const runs = node.skill ? node.skill : node.workflow ? `workflow ${node.workflow}` : "?";
    const badges = [node.approval ? "approval" : null, node.when ? "when" : null, (node.for_each ?? node.forEach) ? "for each" : null].filter(Boolean);
    const state = svg("text", { x: x + 12, y: y + 56, class: "dag-state" }, STATE_TEXT.pending);
    const detail = svg("text", { x: x + NODE_WIDTH - 10, y: y + 56, class: "dag-detail", "text-anchor": "end" });
    const title = svg("title", {}, `${node.id}: ${runs}${node.when ? ` (when ${node.when})` : ""}`);
    const group = svg("g", {
      class: `dag-node state-pending${problems.length ? " has-problems" : ""}`, "data-node": node.id,
      tabindex: 0, role: "group", "aria-label": `${node.id}: ${STATE_TEXT.pending}`,
    },
    title,
    svg("rect", { x, y, width: NODE_WIDTH, height: NODE_HEIGHT, rx: 8, class: "dag-box" }),
    svg("text", { x: x + 12, y: y + 20, class: "dag-id" }, node.id),
    svg("text", { x: x + 12, y: y + 37, class: "dag-skill" }, runs, badges.length ? ` · ${badges.join(", ")}` : ""),
    state, detail);
    if (problems.length) group.append(this.problems(problems, x, y + NODE_HEIGHT + 4));
    this.nodes.set(node.id, { group, state, detail });
    return group;
  }

  problems(problems, x, y) {
    const box = svg("foreignObject", { x, y, width: NODE_WIDTH, height: problemHeight(problems) });
    const items = document.createElementNS(XHTML, "ul");
    items.setAttribute("class", "node-problems");
    for (const problem of problems) {
      const item = document.createElementNS(XHTML, "li");
      const kind = document.createElementNS(XHTML, "strong");
      kind.textContent = `${problem.kind}: `;
      item.append(kind, problem.message);
      items.append(item);
    }
    box.append(items);
    return box;
  }

  /** Set a node's state (a key of STATE_TEXT) and, optionally, its detail (a step, a count). */
  setState(id, state, detail = null) {
    const node = this.nodes.get(id);
    if (!node) return;
    node.group.setAttribute("class", node.group.getAttribute("class").replace(/state-[\w-]+/, `state-${state}`));
    node.group.dataset.state = state;
    node.state.textContent = STATE_TEXT[state] ?? state;
    node.group.setAttribute("aria-label", `${id}: ${STATE_TEXT[state] ?? state}`);
    if (detail !== null) node.detail.textContent = detail;
  }

  state(id) {
    return this.nodes.get(id)?.group.dataset.state ?? "pending";
  }
}
