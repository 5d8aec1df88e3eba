// The console page: three views behind the URL's hash, so every view is a link to share.
//   #/                          state machines with counts by status
//   #/executions?machine=&status=&since=   executions, newest first, paginated; redrive several
//   #/executions/<executionArn>?tab=graph|table|events&state=<name>   one execution
// Everything it shows comes from /console/api/ (arcadeflow/console/api.py). While an execution
// runs, the view it is in is fetched again every second.
import { renderGraph } from "./graph.js";

const API = "/console/api/";
const POLL_MS = 1000;
const REDRIVABLE = new Set(["FAILED", "TIMED_OUT", "ABORTED"]);
const LIVE = new Set(["RUNNING", "PENDING_REDRIVE"]);
const SINCE = { "": "any time", "15m": "15 min", "1h": "1 hour", "24h": "24 hours", "7d": "7 days" };
const SINCE_MS = { "15m": 9e5, "1h": 36e5, "24h": 864e5, "7d": 6048e5 };
const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"];
const EVENTS_SHOWN = 2000;

const main = () => document.querySelector("main");
let pollTimer = null;
let renderToken = 0;
// What a re-render keeps: selections, the rows' keyboard cursor, the bulk redrive's report.
const ui = { selected: new Set(), cursor: 0, results: null, cursors: [], actionResult: null };

// --- small helpers -----------------------------------------------------------------------------

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(API + path, init);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = answer.error || {};
    throw new Error(`${error.code || response.status}: ${error.message || response.statusText}`);
  }
  return answer;
}

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const badge = (status, testid) => h("span", { class: `status status-${status}`, "data-testid": testid, "data-status": status }, status.replace("_", " "));

function duration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)} m ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { hour12: false }) : "");
const took = (row) => (row.stopDate ? duration(new Date(row.stopDate) - new Date(row.startDate)) : duration(Date.now() - new Date(row.startDate)));
const shortArn = (arn) => arn.split(":").slice(-1)[0];
const executionLink = (arn) => `#/executions/${encodeURIComponent(arn)}`;

function pretty(text) {
  if (text === null || text === undefined) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return String(text); }
}

function showError(message) {
  const bar = document.querySelector("[data-testid=error]");
  bar.textContent = message || "";
  bar.hidden = !message;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, params: new URLSearchParams(query) };
}

function setHash(path, params) {
  const query = params && [...params].length ? `?${params}` : "";
  location.hash = `#${path}${query}`;
}

function poll(active) {
  clearTimeout(pollTimer);
  document.querySelector("[data-testid=live]").dataset.state = active ? "polling" : "idle";
  if (active) pollTimer = setTimeout(() => route(true), POLL_MS);
}

// --- machines ----------------------------------------------------------------------------------

async function machinesView() {
  const { stateMachines } = await api("machines");
  const rows = stateMachines.map((m) =>
    h("tr", { class: "clickable", "data-testid": `machine-row-${m.name}`, "data-href": `#/executions?machine=${encodeURIComponent(m.stateMachineArn)}`,
      onclick: () => setHash("/executions", new URLSearchParams({ machine: m.stateMachineArn })) },
      h("td", {}, h("a", { href: `#/executions?machine=${encodeURIComponent(m.stateMachineArn)}` }, m.name)),
      h("td", {}, m.type),
      STATUSES.map((s) => h("td", { class: `num ${m.counts[s] ? "" : "count-zero"}`, "data-testid": `count-${m.name}-${s}` },
        m.counts[s] ? h("a", { href: `#/executions?machine=${encodeURIComponent(m.stateMachineArn)}&status=${s}` }, m.counts[s]) : "0")),
      h("td", { class: "num" }, m.total),
      h("td", {}, when(m.lastStartDate))));
  return {
    view: "machines",
    node: h("section", {},
      h("h1", {}, `State machines (${stateMachines.length})`),
      h("table", { "data-testid": "machines" },
        h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), STATUSES.map((s) => h("th", { class: "num" }, s.replace("_", " "))), h("th", { class: "num" }, "Total"), h("th", {}, "Last started"))),
        h("tbody", {}, rows))),
    live: stateMachines.some((m) => m.counts.RUNNING > 0),
  };
}

// --- executions --------------------------------------------------------------------------------

async function executionsView(params) {
  const query = new URLSearchParams();
  for (const key of ["machine", "status", "cursor", "redriven"]) if (params.get(key)) query.set(key, params.get(key));
  const since = params.get("since") || "";
  if (SINCE_MS[since]) query.set("since", String(Date.now() - SINCE_MS[since]));
  const [{ executions, nextCursor }, { stateMachines }] = await Promise.all([api(`executions?${query}`), api("machines")]);
  const change = (key, value) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value); else next.delete(key);
    next.delete("cursor");
    ui.cursors = [];
    setHash("/executions", next);
  };
  const filters = h("div", { class: "filters" },
    h("label", {}, "Machine ",
      h("select", { "data-testid": "filter-machine", onchange: (e) => change("machine", e.target.value) },
        h("option", { value: "" }, "all"),
        stateMachines.map((m) => h("option", { value: m.stateMachineArn, selected: params.get("machine") === m.stateMachineArn }, m.name)))),
    h("label", {}, "Status ",
      h("select", { "data-testid": "filter-status", onchange: (e) => change("status", e.target.value) },
        h("option", { value: "" }, "any"),
        STATUSES.map((s) => h("option", { value: s, selected: params.get("status") === s }, s)))),
    h("label", {}, "Started ",
      h("select", { "data-testid": "filter-since", onchange: (e) => change("since", e.target.value) },
        Object.entries(SINCE).map(([v, label]) => h("option", { value: v, selected: since === v }, v ? `in the last ${label}` : label)))),
  );
  const redrivable = executions.filter((e) => REDRIVABLE.has(e.status));
  for (const arn of [...ui.selected]) if (!executions.some((e) => e.executionArn === arn)) ui.selected.delete(arn);
  const bulk = h("div", { class: "actions" },
    h("button", { "data-testid": "select-failed", disabled: !redrivable.length, onclick: () => { redrivable.forEach((e) => ui.selected.add(e.executionArn)); route(true); } }, `Select all not succeeded (${redrivable.length})`),
    h("button", { class: "primary", "data-testid": "redrive-selected", disabled: !ui.selected.size, onclick: redriveSelected }, `Redrive selected (${ui.selected.size})`),
    h("span", { class: "notice" }, "x selects the row under the cursor"));
  const rows = executions.map((e, i) =>
    h("tr", { class: `clickable${i === ui.cursor ? " cursor" : ""}`, "data-testid": `execution-row-${e.name}`, "data-arn": e.executionArn, "data-status": e.status, "data-href": executionLink(e.executionArn) },
      h("td", {}, h("input", { type: "checkbox", "data-testid": `select-${e.name}`, disabled: !REDRIVABLE.has(e.status), checked: ui.selected.has(e.executionArn),
        onclick: (ev) => ev.stopPropagation(),
        onchange: (ev) => { if (ev.target.checked) ui.selected.add(e.executionArn); else ui.selected.delete(e.executionArn); route(true); } })),
      h("td", {}, h("a", { href: executionLink(e.executionArn), "data-testid": `open-${e.name}` }, e.name)),
      h("td", {}, e.machineName),
      h("td", {}, badge(e.status, `status-${e.name}`)),
      h("td", {}, when(e.startDate)),
      h("td", { class: "num" }, took(e)),
      h("td", { class: "num" }, e.redriveCount || "")));
  for (const row of rows) row.addEventListener("click", () => { location.hash = row.dataset.href; });
  const pager = h("div", { class: "actions" },
    h("button", { "data-testid": "newer", disabled: !params.get("cursor"), onclick: () => {
      const next = new URLSearchParams(params);
      const previous = ui.cursors.pop();
      if (previous) next.set("cursor", previous); else next.delete("cursor");
      setHash("/executions", next);
    } }, "← Newer"),
    h("button", { "data-testid": "older", disabled: !nextCursor, onclick: () => {
      const next = new URLSearchParams(params);
      ui.cursors.push(params.get("cursor") || "");
      next.set("cursor", nextCursor);
      setHash("/executions", next);
    } }, "Older →"));
  return {
    view: "executions",
    node: h("section", {},
      h("h1", {}, "Executions"),
      filters, bulk, resultsTable(),
      h("table", { "data-testid": "executions" },
        h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Name"), h("th", {}, "State machine"), h("th", {}, "Status"), h("th", {}, "Started"), h("th", { class: "num" }, "Duration"), h("th", { class: "num" }, "Redrives"))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "notice" }, "no executions match")))),
      pager),
    live: executions.some((e) => LIVE.has(e.status)),
  };
}

function resultsTable() {
  if (!ui.results) return null;
  const { results } = ui.results;
  const ok = results.filter((r) => r.redriven).length;
  return h("div", { class: "results", "data-testid": "redrive-results" },
    h("h2", {}, `Redrive: ${ok} redriven, ${results.length - ok} not`),
    h("table", {}, h("tbody", {}, results.map((r) =>
      h("tr", { "data-testid": `redrive-result-${shortArn(r.executionArn)}`, "data-redriven": String(r.redriven) },
        h("td", {}, h("a", { href: executionLink(r.executionArn) }, shortArn(r.executionArn))),
        h("td", {}, r.redriven ? h("span", { class: "status status-SUCCEEDED" }, "redriven") : h("span", { class: "status status-FAILED" }, r.error.code)),
        h("td", { class: "wrap" }, r.redriven ? when(r.redriveDate) : r.error.message || ""))))));
}

async function redriveSelected() {
  const executionArns = [...ui.selected];
  if (!executionArns.length) return;
  try {
    ui.results = await api("redrive", { executionArns });
    ui.selected.clear();
  } catch (error) {
    showError(`redrive: ${error.message}`);
  }
  route(true);
}

// --- one execution -----------------------------------------------------------------------------

async function executionView(arn, params) {
  const data = await api(`execution?arn=${encodeURIComponent(arn)}`);
  const ex = data.execution;
  const tab = params.get("tab") || "graph";
  const selected = params.get("state") || "";
  const select = (name) => {
    const next = new URLSearchParams(params);
    next.set("state", name);
    if (!next.get("tab")) next.set("tab", tab);
    history.replaceState(null, "", `#/executions/${encodeURIComponent(arn)}?${next}`);
    route(true);
  };
  const statusOf = (name) => data.states[name] || { status: "not_reached", entries: 0 };
  const summary = h("dl", { class: "summary", "data-testid": "summary" },
    h("dt", {}, "Status"), h("dd", {}, badge(ex.status, "execution-status")),
    h("dt", {}, "State machine"), h("dd", {}, h("a", { href: `#/executions?machine=${encodeURIComponent(ex.stateMachineArn)}` }, shortArn(ex.stateMachineArn))),
    h("dt", {}, "Started"), h("dd", {}, when(ex.startDate)),
    h("dt", {}, "Stopped"), h("dd", {}, when(ex.stopDate)),
    h("dt", {}, "Duration"), h("dd", {}, took(ex)),
    h("dt", {}, "Redrives"), h("dd", { "data-testid": "redrive-count" }, `${ex.redriveCount || 0}${ex.redriveDate ? ` (last ${when(ex.redriveDate)})` : ""}${ex.redriveStatus ? ` · ${ex.redriveStatus}` : ""}`),
    ex.error || ex.cause ? [h("dt", {}, "Error"), h("dd", { "data-testid": "execution-error", class: "mono" }, ex.error || ""),
      h("dt", {}, "Cause"), h("dd", { "data-testid": "execution-cause", class: "mono" }, ex.cause || "")] : null,
    h("dt", {}, "ARN"), h("dd", { class: "mono" }, ex.executionArn));
  const notRedrivable = ex.redriveStatus === "NOT_REDRIVABLE";
  const actions = h("div", { class: "actions" },
    h("button", { class: "primary", "data-testid": "redrive", disabled: !REDRIVABLE.has(ex.status) || notRedrivable,
      title: notRedrivable ? ex.redriveStatusReason || "" : "resume from the states that failed or never finished",
      onclick: () => act("redrive", { executionArns: [arn] }) }, "Redrive"),
    h("button", { "data-testid": "replay", disabled: LIVE.has(ex.status), title: "a new execution with the same input", onclick: () => act("replay", { executionArn: arn }) }, "Replay"),
    h("button", { "data-testid": "stop", disabled: !LIVE.has(ex.status), onclick: () => act("stop", { executionArn: arn }) }, "Stop"),
    ui.actionResult && ui.actionResult.arn === arn ? h("span", { "data-testid": "action-result", "data-outcome": ui.actionResult.outcome }, ui.actionResult.text) : null);
  const tabs = h("div", { class: "tabs", role: "tablist" },
    [["graph", "Graph (g)"], ["table", "Table (t)"], ["events", `Events (e) · ${data.events.length}`]].map(([name, label]) =>
      h("button", { role: "tab", "aria-selected": String(tab === name), "data-testid": `tab-${name}`, onclick: () => {
        const next = new URLSearchParams(params); next.set("tab", name); setHash(`/executions/${encodeURIComponent(arn)}`, next);
      } }, label)));
  let body;
  if (tab === "events") body = eventsTable(data.events);
  else {
    const left = tab === "table" ? statesTable(data, selected, select)
      : h("div", { class: "graph-pane", "data-testid": "graph-pane" }, legend(), renderGraph(data.definition, statusOf, select, selected));
    body = h("div", { class: "split" }, left, stateDetail(data, selected));
  }
  return {
    view: "execution",
    node: h("section", { "data-testid": "execution", "data-arn": arn, "data-status": ex.status },
      h("h1", {}, ex.name), summary, actions, tabs, body),
    live: LIVE.has(ex.status),
  };
}

async function act(action, body) {
  const arn = body.executionArn || body.executionArns[0];
  try {
    const answer = await api(action, body);
    if (action === "redrive") {
      const result = answer.results[0];
      ui.actionResult = result.redriven
        ? { arn, outcome: "redriven", text: `Redriven at ${when(result.redriveDate)}` }
        : { arn, outcome: "refused", text: `Not redriven: ${result.error.code}: ${result.error.message}` };
    } else if (action === "replay") {
      ui.actionResult = { arn: answer.executionArn, outcome: "replayed", text: `Replay of ${shortArn(arn)}` };
      location.hash = executionLink(answer.executionArn);
      return;
    } else {
      ui.actionResult = { arn, outcome: "stopped", text: `Stopped at ${when(answer.stopDate)}` };
    }
  } catch (error) {
    ui.actionResult = { arn, outcome: "error", text: `${action}: ${error.message}` };
  }
  route(true);
}

function legend() {
  return h("div", { class: "legend" }, ["succeeded", "failed", "caught", "running", "aborted", "not_reached"].map((s) => badge(s, null)),
    h("span", { class: "notice" }, "dashed orange: Catch · click a state for its input, output and error"));
}

function orderedStates(data) {
  return Object.values(data.states).sort((a, b) => {
    const ra = a.status === "not_reached" ? 1 : 0, rb = b.status === "not_reached" ? 1 : 0;
    return ra - rb || (a.startOffsetMs ?? 0) - (b.startOffsetMs ?? 0);
  });
}

function statesTable(data, selected, select) {
  const rows = orderedStates(data).map((s) =>
    h("tr", { class: `clickable${s.name === selected ? " cursor" : ""}`, "data-testid": `state-row-${s.name}`, "data-state": s.name, "data-status": s.status, onclick: () => select(s.name) },
      h("td", {}, s.name),
      h("td", {}, s.type || ""),
      h("td", { "data-col": "status" }, badge(s.status, null)),
      h("td", { class: "num", "data-col": "start" }, s.entries ? `+${duration(s.startOffsetMs)}` : ""),
      h("td", { class: "num", "data-col": "duration" }, s.entries ? duration(s.durationMs) : ""),
      h("td", { class: "num", "data-col": "entries" }, s.entries || ""),
      h("td", { class: "num", "data-col": "attempts" }, s.attempts || ""),
      h("td", { class: "num", "data-col": "retries" }, s.retries || ""),
      h("td", { class: "wrap", "data-col": "error" }, s.error || ""),
      h("td", {}, s.iterations ? `${s.iterations.succeeded} ok, ${s.iterations.failed} failed, slowest ${duration(s.iterations.slowestMs)}` : "")));
  return h("div", { class: "graph-pane" },
    h("table", { "data-testid": "states" },
      h("thead", {}, h("tr", {}, ["State", "Type", "Status", "Start", "Duration", "Entries", "Attempts", "Retries", "Error", "Iterations"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows)));
}

function stateDetail(data, selected) {
  const s = data.states[selected];
  if (!s) return h("aside", { class: "detail", "data-testid": "state-detail" }, h("p", { class: "notice" }, "Select a state (click it, or Tab to it and press Enter) to see its input, output and error."));
  const field = (label, value, testid) => (value === null || value === undefined || value === "" ? null : [h("h2", {}, label), h("pre", { "data-testid": testid }, value)]);
  return h("aside", { class: "detail", "data-testid": "state-detail", "data-state": s.name },
    h("h3", {}, s.name, " ", badge(s.status, "detail-status")),
    h("div", { class: "notice" }, [s.type, s.entries ? `entered ${s.entries}×` : "not reached", s.entries ? `at +${duration(s.startOffsetMs)}` : "",
      s.durationMs !== undefined && s.entries ? `for ${duration(s.durationMs)}` : "", s.attempts ? `${s.attempts} attempts` : "", s.retries ? `${s.retries} retries` : "",
      s.retiredByRedrive ? `${s.retiredByRedrive} run(s) before a redrive` : ""].filter(Boolean).join(" · ")),
    s.iterations ? h("div", {}, `iterations: ${s.iterations.succeeded} succeeded, ${s.iterations.failed} failed, ${s.iterations.aborted} aborted of ${s.iterations.started}; slowest #${s.iterations.slowestIndex} ${duration(s.iterations.slowestMs)}`) : null,
    field("Error", s.error, "detail-error"), field("Cause", pretty(s.cause), "detail-cause"),
    field("Input", pretty(s.input), "detail-input"), field("Output", pretty(s.output), "detail-output"));
}

function eventsTable(events) {
  const start = events.length ? new Date(events[0].timestamp) : new Date();
  const shown = events.slice(-EVENTS_SHOWN);
  const rows = shown.map((event) => {
    const key = Object.keys(event).find((k) => k.endsWith("EventDetails"));
    const details = key ? event[key] : {};
    const subject = details.name || details.resource || "";
    const rest = { ...details };
    delete rest.name;
    const text = JSON.stringify(rest);
    return h("tr", { "data-testid": `event-${event.id}`, "data-type": event.type },
      h("td", { class: "num" }, event.id),
      h("td", { class: "num" }, `+${duration(new Date(event.timestamp) - start)}`),
      h("td", {}, h("span", { class: `status status-${/Failed|TimedOut|Aborted/.test(event.type) ? "failed" : /Succeeded|Exited/.test(event.type) ? "succeeded" : "not_reached"}` }, event.type)),
      h("td", {}, subject),
      h("td", { class: "wrap mono" }, text === "{}" ? "" : text.length > 300 ? h("details", {}, h("summary", {}, `${text.slice(0, 300)}…`), h("pre", {}, JSON.stringify(rest, null, 2))) : text));
  });
  return h("div", { class: "graph-pane" },
    events.length > EVENTS_SHOWN ? h("p", { class: "notice" }, `the last ${EVENTS_SHOWN} of ${events.length} events`) : null,
    h("table", { "data-testid": "events" },
      h("thead", {}, h("tr", {}, ["#", "Time", "Type", "State / resource", "Details"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows)));
}

// --- routing and keys --------------------------------------------------------------------------

async function route(refresh = false) {
  const token = ++renderToken;
  const { path, params } = parseHash();
  if (!refresh) { ui.cursor = 0; }
  try {
    let rendered;
    if (path.startsWith("/executions/")) rendered = await executionView(decodeURIComponent(path.slice("/executions/".length)), params);
    else if (path === "/executions") rendered = await executionsView(params);
    else rendered = await machinesView();
    if (token !== renderToken) return; // a newer render started while this one fetched
    const pane = main().querySelector(".graph-pane");
    const scroll = pane ? [pane.scrollLeft, pane.scrollTop] : null;
    main().replaceChildren(rendered.node);
    main().dataset.view = rendered.view;
    const newPane = main().querySelector(".graph-pane");
    if (refresh && scroll && newPane) [newPane.scrollLeft, newPane.scrollTop] = scroll;
    showError("");
    poll(rendered.live);
  } catch (error) {
    if (token !== renderToken) return;
    showError(error.message);
    poll(true); // the stack may be restarting: try again
  }
}

function rowsOfView() {
  return [...main().querySelectorAll("tbody tr[data-href], tbody tr[data-state]")];
}

document.addEventListener("keydown", (ev) => {
  if (ev.target.closest("input, select, textarea") || ev.metaKey || ev.ctrlKey || ev.altKey) return;
  const { path, params } = parseHash();
  const rows = rowsOfView();
  const tabTo = (name) => { if (path.startsWith("/executions/")) { params.set("tab", name); setHash(path, params); } };
  switch (ev.key) {
    case "m": location.hash = "#/"; break;
    case "l": location.hash = "#/executions"; break;
    case "r": route(true); break;
    case "g": tabTo("graph"); break;
    case "t": tabTo("table"); break;
    case "e": tabTo("events"); break;
    case "j": case "k": {
      if (!rows.length) return;
      ui.cursor = Math.max(0, Math.min(rows.length - 1, ui.cursor + (ev.key === "j" ? 1 : -1)));
      rows.forEach((r, i) => r.classList.toggle("cursor", i === ui.cursor));
      rows[ui.cursor].scrollIntoView({ block: "nearest" });
      break;
    }
    case "Enter": if (rows[ui.cursor] && !ev.target.closest("[role=button], button, a")) rows[ui.cursor].click(); break;
    case "x": { const box = rows[ui.cursor]?.querySelector("input[type=checkbox]:not(:disabled)"); if (box) box.click(); break; }
    case "Escape": if (path.startsWith("/executions/")) history.back(); break;
    case "?": alert(document.querySelector(".keys").textContent); break;
    default: return;
  }
  ev.preventDefault();
});

window.addEventListener("hashchange", () => { ui.actionResult = ui.actionResult && location.hash.includes(encodeURIComponent(ui.actionResult.arn)) ? ui.actionResult : null; route(); });
route();
