// The state graph of an ASL definition as SVG, with no library: a layered layout (each state one
// layer below the states that lead to it, back edges of loops routed up the right side), Map and
// Parallel drawn as boxes around their inner states, each state coloured by its status in this
// execution. Pure functions of (definition, statuses); console.js owns the page.

const NODE_H = 34;
const LAYER_GAP = 38;
const NODE_GAP = 22;
const PAD = 14;
const HEADER = 24;
const BRANCH_GAP = 18;
const CHAR_W = 7.2;
const SVG_NS = "http://www.w3.org/2000/svg";

// Every transition out of a state: Next, each Choice and its Default, each Catch (dashed).
export function transitions(state) {
  const out = [];
  if (state.Next) out.push({ to: state.Next, kind: "next" });
  (state.Choices || []).forEach((choice, i) => {
    if (choice.Next) out.push({ to: choice.Next, kind: "choice", label: choiceLabel(choice, i) });
  });
  if (state.Default) out.push({ to: state.Default, kind: "default", label: "Default" });
  (state.Catch || []).forEach((c) => {
    if (c.Next) out.push({ to: c.Next, kind: "catch", label: (c.ErrorEquals || []).join(", ") });
  });
  return out;
}

// "status.S = accepted": the end of the path, and the value compared, short enough to read.
const OPERATORS = [
  [/GreaterThanEquals(Path)?$/, "≥"], [/LessThanEquals(Path)?$/, "≤"], [/GreaterThan(Path)?$/, ">"],
  [/LessThan(Path)?$/, "<"], [/Equals(Path)?$/, "="], [/Matches$/, "~"],
];

function choiceLabel(choice, i) {
  const variable = choice.Variable ? choice.Variable.replace(/^\$\.?/, "").split(".").slice(-2).join(".") : "";
  const op = Object.keys(choice).find((k) => !["Variable", "Next", "Comment"].includes(k));
  if (!variable || !op) return op ? `${op} #${i + 1}` : `#${i + 1}`;
  const value = choice[op];
  if (op.startsWith("Is")) return `${variable} ${op}${value === false ? " false" : ""}`;
  const symbol = (OPERATORS.find(([re]) => re.test(op)) || [null, op])[1];
  const shown = typeof value === "object" ? "…" : String(value);
  return `${variable} ${symbol} ${shown}`;
}

function innerMachines(state) {
  if (state.Type === "Map") {
    const processor = state.ItemProcessor || state.Iterator;
    return processor ? [processor] : [];
  }
  if (state.Type === "Parallel") return state.Branches || [];
  return [];
}

// Layers by longest path from StartAt over forward edges; an edge to a state on the current
// depth-first path is a back edge (a loop) and does not push its target down.
function layersOf(machine) {
  const states = machine.States || {};
  const names = Object.keys(states);
  const back = new Set();
  const seen = new Set();
  const onPath = new Set();
  const order = [];
  const visit = (name) => {
    if (!states[name] || seen.has(name)) return;
    seen.add(name);
    onPath.add(name);
    for (const t of transitions(states[name])) {
      if (onPath.has(t.to)) back.add(`${name}->${t.to}`);
      else visit(t.to);
    }
    onPath.delete(name);
    order.push(name);
  };
  visit(machine.StartAt);
  names.forEach(visit); // states no path reaches still get drawn
  order.reverse(); // a topological order of the forward edges
  const layer = {};
  for (const name of order) layer[name] = layer[name] ?? 0;
  for (const name of order) {
    for (const t of transitions(states[name])) {
      if (back.has(`${name}->${t.to}`) || !states[t.to]) continue;
      layer[t.to] = Math.max(layer[t.to] ?? 0, layer[name] + 1);
    }
  }
  return { layer, back, order };
}

// The layout of one machine (a definition, a Map's processor or a Parallel branch):
// nodes positioned relative to its own top-left corner.
export function layout(machine) {
  const states = machine.States || {};
  const { layer, back, order } = layersOf(machine);
  const nodes = {};
  for (const name of order) {
    const state = states[name];
    const inner = innerMachines(state).map(layout);
    const label = Math.max(name.length, (state.Type || "").length + 4);
    let w = Math.max(120, Math.ceil(label * CHAR_W) + 28);
    let h = NODE_H;
    if (inner.length) {
      const innerW = inner.reduce((sum, l) => sum + l.w, 0) + BRANCH_GAP * (inner.length - 1);
      const innerH = Math.max(...inner.map((l) => l.h));
      w = Math.max(w, innerW + 2 * PAD);
      h = HEADER + innerH + PAD;
    }
    nodes[name] = { name, state, w, h, layer: layer[name], inner, x: 0, y: 0 };
  }
  const byLayer = [];
  for (const name of order) (byLayer[layer[name]] ||= []).push(nodes[name]);
  // Within a layer, states sit under the mean position of the states leading to them.
  const position = {};
  const parents = {};
  for (const name of order) {
    for (const t of transitions(states[name])) {
      if (!back.has(`${name}->${t.to}`) && nodes[t.to]) (parents[t.to] ||= []).push(name);
    }
  }
  let y = 0;
  let width = 0;
  byLayer.forEach((row, i) => {
    if (!row) return;
    if (i > 0) {
      const mean = (n) => {
        const ps = (parents[n.name] || []).map((p) => position[p]).filter((v) => v !== undefined);
        return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : 0;
      };
      row.sort((a, b) => mean(a) - mean(b));
    }
    row.forEach((n, j) => (position[n.name] = j));
    const rowW = row.reduce((sum, n) => sum + n.w, 0) + NODE_GAP * (row.length - 1);
    width = Math.max(width, rowW);
    row.rowW = rowW;
    row.y = y;
    y += Math.max(...row.map((n) => n.h)) + LAYER_GAP;
  });
  const backRoutes = back.size ? 40 : 0;
  byLayer.forEach((row) => {
    if (!row) return;
    let x = (width - row.rowW) / 2;
    const rowH = Math.max(...row.map((n) => n.h));
    for (const n of row) {
      n.x = x;
      n.y = row.y + (rowH - n.h) / 2;
      x += n.w + NODE_GAP;
    }
  });
  // One edge per (from, to, kind): two Catches to one state are one dashed line, both named.
  const edges = [];
  const byKey = {};
  for (const name of order) {
    for (const t of transitions(states[name])) {
      if (!nodes[t.to]) continue;
      const key = `${name}->${t.to}:${t.kind === "default" ? "choice" : t.kind}`;
      if (byKey[key]) {
        byKey[key].label = [byKey[key].label, t.label].filter(Boolean).join(" | ");
        continue;
      }
      byKey[key] = { from: name, ...t, back: back.has(`${name}->${t.to}`) };
      edges.push(byKey[key]);
    }
  }
  return { nodes, edges, start: machine.StartAt, w: width + backRoutes, h: Math.max(0, y - LAYER_GAP) };
}

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function edgePath(a, b, e, width) {
  if (e.back) {
    // Up the right side of the layout, clear of the states in between.
    const sx = a.x + a.w, sy = a.y + a.h / 2, tx = b.x + b.w, ty = b.y + b.h / 2;
    const rx = width - 8;
    return `M${sx},${sy} C${rx},${sy} ${rx},${ty} ${tx},${ty}`;
  }
  const sx = a.x + a.w / 2, sy = a.y + a.h, tx = b.x + b.w / 2, ty = b.y;
  const mid = (sy + ty) / 2;
  return `M${sx},${sy} C${sx},${mid} ${tx},${mid} ${tx},${ty}`;
}

// Draws the layout into `parent` (an SVG group); `statusOf(name)` gives each state's status,
// `onSelect(name)` is called when a state is clicked or chosen with the keyboard.
function draw(lay, parent, statusOf, onSelect, selected) {
  for (const e of lay.edges) {
    const a = lay.nodes[e.from], b = lay.nodes[e.to];
    const path = el("path", {
      d: edgePath(a, b, e, lay.w),
      class: `edge edge-${e.kind}${e.back ? " edge-back" : ""}`,
      "marker-end": "url(#arrow)",
      "data-from": e.from,
      "data-to": e.to,
      "data-kind": e.kind,
    }, parent);
    if (e.label) {
      const title = el("title", {}, path);
      title.textContent = e.label;
      if (e.kind !== "next") {
        // Beside the target's end, where the edges out of one Choice have spread apart.
        const lx = e.back ? lay.w - 6 : b.x + b.w / 2;
        const ly = e.back ? (a.y + b.y) / 2 + NODE_H / 2 : b.y - 7;
        const text = el("text", { x: lx, y: ly, class: `edge-label edge-label-${e.kind}`, "text-anchor": "middle" }, parent);
        text.textContent = e.label.length > 28 ? `${e.label.slice(0, 27)}…` : e.label;
      }
    }
  }
  for (const n of Object.values(lay.nodes)) {
    const status = statusOf(n.name);
    const g = el("g", {
      class: `node st-${status.status}${n.inner.length ? " compound" : ""}${selected === n.name ? " selected" : ""}`,
      transform: `translate(${n.x},${n.y})`,
      "data-testid": `node-${n.name}`,
      "data-state": n.name,
      "data-status": status.status,
      tabindex: 0,
      role: "button",
      "aria-label": `${n.name}: ${status.status}`,
    }, parent);
    el("rect", { width: n.w, height: n.h, rx: n.inner.length ? 6 : 17 }, g);
    const title = el("text", { x: n.inner.length ? 10 : n.w / 2, y: n.inner.length ? 16 : 15, class: "node-name", "text-anchor": n.inner.length ? "start" : "middle" }, g);
    title.textContent = n.name;
    const badges = [];
    if (status.entries > 1) badges.push(`×${status.entries}`);
    if (status.retries) badges.push(`↻${status.retries}`);
    const it = status.iterations;
    if (it) badges.push(`${it.succeeded}✓ ${it.failed}✗`);
    const sub = el("text", { x: n.inner.length ? n.w - 10 : n.w / 2, y: n.inner.length ? 16 : 28, class: "node-type", "text-anchor": n.inner.length ? "end" : "middle" }, g);
    sub.textContent = [n.state.Type, ...badges].join("  ");
    const tip = el("title", {}, g);
    tip.textContent = `${n.name} (${n.state.Type}): ${status.status.replace("_", " ")}`;
    g.addEventListener("click", (ev) => { ev.stopPropagation(); onSelect(n.name); });
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); onSelect(n.name); } });
    let x = PAD;
    n.inner.forEach((innerLayout, i) => {
      const box = el("g", { transform: `translate(${x},${HEADER})`, class: "inner" }, g);
      if (n.state.Type === "Parallel") {
        const frame = el("rect", { x: -6, y: -4, width: innerLayout.w + 12, height: innerLayout.h + 10, class: "branch", rx: 4 }, box);
        el("title", {}, frame).textContent = `branch ${i + 1}`;
      }
      draw(innerLayout, box, statusOf, onSelect, selected);
      x += innerLayout.w + BRANCH_GAP;
    });
  }
}

// The whole graph as an <svg>, with a Start marker pointing at StartAt.
export function renderGraph(definition, statusOf, onSelect, selected) {
  const lay = layout(definition);
  const top = 40;
  const svg = el("svg", {
    class: "graph",
    width: lay.w + 2 * PAD,
    height: lay.h + top + PAD,
    viewBox: `${-PAD} ${-top} ${lay.w + 2 * PAD} ${lay.h + top + PAD}`,
    "data-testid": "graph",
  });
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
  const first = lay.nodes[lay.start];
  if (first) {
    const cx = first.x + first.w / 2;
    el("circle", { cx, cy: -26, r: 6, class: "start" }, svg);
    el("path", { d: `M${cx},-20 L${cx},${first.y - 1}`, class: "edge edge-next", "marker-end": "url(#arrow)" }, svg);
  }
  draw(lay, el("g", {}, svg), statusOf, onSelect, selected);
  return svg;
}
