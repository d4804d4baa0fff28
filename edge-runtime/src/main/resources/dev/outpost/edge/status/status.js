// The status page's script (issue #16): reads the agent's own endpoints every few seconds and draws them.
// Written by hand, no library, nothing from another host: the page works on a device that is offline.
// Text from the agent (errors, alert details) is only ever set as textContent, never parsed as HTML.
"use strict";

const REFRESH_MILLIS = 5000;
const HOUR_MILLIS = 3600 * 1000;
const DIMENSIONS = ["memory", "cpu", "disk", "connections", "ingest_rate"];
const LANES = ["critical", "high", "normal", "bulk"];
let token = sessionStorage.getItem("outpost.token") || "";
let fleetSort = { key: "node", dir: 1 };
let fleetRows = [];

class Unauthorized extends Error {}

async function get(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch(path, { headers, cache: "no-store" });
  if (r.status === 401) throw new Unauthorized(path);
  if (!r.ok) throw new Error(path + " answered " + r.status);
  return path.startsWith("/v1/events") ? r.text() : r.json();
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function byId(id) { return document.getElementById(id); }

function setValue(id, text, value) {
  const e = byId(id);
  e.textContent = text;
  e.dataset.value = value === undefined ? String(text) : String(value);
}

function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return (u === 0 ? v : v.toFixed(1)) + " " + units[u];
}

function seconds(s) {
  if (s === null || s === undefined) return "–";
  if (s < 120) return s + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}

function ago(ms, now) {
  if (!ms) return "never";
  return seconds(Math.max(0, Math.round((now - ms) / 1000))) + " ago";
}

function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

function row(cells) {
  const tr = el("tr");
  for (const c of cells) {
    const td = el("td", c.text, c.num ? "num" : "");
    if (c.id) td.id = c.id;
    if (c.value !== undefined) td.dataset.value = String(c.value);
    if (c.title) td.title = c.title;
    tr.appendChild(td);
  }
  return tr;
}

function emptyItem(list, text) { list.appendChild(el("li", text, "empty")); }

// ---- charts: inline SVG, drawn from the history's samples ----

const SVG = "http://www.w3.org/2000/svg";
const W = 900, H = 220, LEFT = 56, RIGHT = 10, TOP = 10, BOTTOM = 24;

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// The time axis: the last hour, or less while the agent has run for less (at least 5 minutes), so a
// young agent's few samples are not squeezed against the right edge.
function timeSpan(samples, now) {
  const first = samples.length ? samples[0].at : now;
  return Math.min(HOUR_MILLIS, Math.max(5 * 60000, now - first));
}

function timeX(now, span) {
  return t => LEFT + (W - LEFT - RIGHT) * (t - (now - span)) / span;
}

// series: [{name, points: [[t, v], ...]}]; draws the span ending at now.
function lineChart(id, legendId, series, now, span, yMax, fmt, bands) {
  const chart = clear(byId(id));
  const x = timeX(now, span);
  const y = v => TOP + (H - TOP - BOTTOM) * (1 - Math.min(v, yMax) / yMax);
  for (const b of bands || []) {
    chart.appendChild(svg("rect", { class: "band", x: LEFT, width: W - LEFT - RIGHT,
      y: y(b[1]), height: y(b[0]) - y(b[1]) }));
  }
  for (let i = 0; i <= 4; i++) {
    const v = yMax * i / 4;
    chart.appendChild(svg("line", { class: "axis", x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v) }));
    const t = svg("text", { class: "tick", x: LEFT - 6, y: y(v) + 4, "text-anchor": "end" });
    t.textContent = fmt(v);
    chart.appendChild(t);
  }
  for (let q = 4; q >= 0; q--) {
    const exact = span / 60000 * q / 4;
    const m = exact < 10 ? String(Math.round(exact * 10) / 10) : String(Math.round(exact));
    const t = svg("text", { class: "tick", x: x(now - span * q / 4), y: H - 6, "text-anchor": "middle" });
    t.textContent = q === 0 ? "now" : "-" + m + " min";
    chart.appendChild(t);
  }
  const legend = clear(byId(legendId));
  let drawn = 0;
  series.forEach((s, i) => {
    const pts = s.points.filter(p => p[1] !== undefined && p[1] !== null);
    const line = svg("polyline", { class: "s" + i, "data-series": s.name,
      points: pts.map(p => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" ") });
    line.dataset.count = String(pts.length);
    chart.appendChild(line);
    drawn += pts.length;
    const last = pts.length ? pts[pts.length - 1][1] : null;
    legend.appendChild(el("span", s.name + (last === null ? "" : " " + fmt(last)), "s" + i));
  });
  chart.dataset.points = String(drawn);
}

function rate(v) {
  if (v >= 1000) return (v / 1000).toFixed(1) + " k";
  return Number.isInteger(v) || v >= 10 ? String(Math.round(v)) : v.toFixed(1);
}

// The governor's level over the hour: a strip along the top of the pressure chart, one piece per sample
// (until the next sample, or one interval for the newest), coloured by level.
function levelStrip(samples, now, span, interval) {
  const chart = byId("pressure-chart");
  const x = timeX(now, span);
  const strip = svg("g", { class: "levels" });
  samples.forEach((s, i) => {
    const end = i + 1 < samples.length ? samples[i + 1].at : Math.min(now, s.at + interval);
    const piece = svg("rect", { class: "lvl lvl-" + s.level, x: x(s.at), y: 0, height: 6,
      width: Math.max(1, x(end) - x(s.at)) });
    piece.dataset.level = s.level;
    const title = svg("title", {});
    title.textContent = new Date(s.at).toLocaleTimeString() + " " + s.level;
    piece.appendChild(title);
    strip.appendChild(piece);
  });
  chart.appendChild(strip);
}

function drawHistory(h) {
  const samples = h.samples;
  const pressure = DIMENSIONS.map(d => ({ name: d, points: samples.map(s => [s.at, s.pressure[d]]) }))
    .filter(s => s.points.some(p => p[1] !== undefined));
  const pMax = Math.max(1, ...samples.flatMap(s => Object.values(s.pressure)));
  const span = timeSpan(samples, h.now);
  lineChart("pressure-chart", "pressure-legend", pressure, h.now, span, Math.min(2, niceMax(pMax)),
    v => Math.round(v * 100) + " %", [[0.7, 0.85], [0.85, 0.95], [0.95, 1]]);
  levelStrip(samples, h.now, span, h.interval_millis);
  const rates = [
    { name: "ingest events/s", points: samples.map(s => [s.at, s.ingest_events_per_second]) },
    { name: "sync records/s", points: samples.map(s => [s.at, s.sync_records_per_second]) },
  ];
  if (h.hub) rates.push({ name: "received from nodes/s", points: samples.map(s => [s.at, s.hub_records_per_second]) });
  const rMax = niceMax(Math.max(1, ...rates.flatMap(r => r.points.map(p => p[1]))));
  lineChart("rates-chart", "rates-legend", rates, h.now, span, rMax, rate);
}

// ---- the rest: tables and lists ----

function drawGovernor(g, now) {
  const level = byId("level");
  setValue("level", g.level);
  level.className = "level level-" + g.level;
  const dims = clear(byId("dimensions"));
  for (const [name, d] of Object.entries(g.dimensions)) {
    const isBytes = name === "memory" || name === "disk";
    const fmt = v => isBytes ? bytes(v) : String(v);
    dims.appendChild(row([{ text: name }, { text: fmt(d.usage), num: true, value: d.usage },
      { text: fmt(d.limit), num: true, value: d.limit },
      { text: Math.round(d.pressure * 1000) / 10 + " %", num: true, value: d.pressure, id: "pressure-" + name }]));
  }
  byId("dimensions").dataset.sampledAt = String(g.sampled_at);
  const r = g.data_at_risk;
  setValue("risk-events", String(r.events), r.events);
  setValue("risk-bytes", bytes(r.bytes), r.bytes);
  setValue("risk-age", seconds(r.oldest_age_seconds), r.oldest_age_seconds);
  byId("risk-reason").textContent = r.reason ? "(" + r.reason + ")" : "";
  const actions = clear(byId("actions"));
  const recent = g.recent_actions.slice().reverse();
  for (const a of recent) {
    actions.appendChild(el("li", ago(a.at, now) + " · " + a.action + " (" + a.level + "): " + a.detail));
  }
  if (!recent.length) emptyItem(actions, "none since start");
}

function drawSync(s, now) {
  setValue("sync-upstream", s.upstream || "none (offline)", s.upstream || "");
  const link = byId("sync-link");
  setValue("sync-link", s.link);
  link.className = "link-" + s.link;
  setValue("sync-failures", String(s.consecutive_failures || 0), s.consecutive_failures || 0);
  setValue("sync-success", ago(s.last_success, now), s.last_success || 0);
  const e = s.last_error;
  setValue("sync-error", e ? ago(e.at, now) + ": " + e.message : "none", e ? e.message : "");
  const lanes = clear(byId("lanes"));
  for (const lane of LANES) {
    const l = s.lanes[lane];
    if (!l) continue;
    lanes.appendChild(row([{ text: lane },
      { text: String(l.backlog_records), num: true, value: l.backlog_records, id: "lane-" + lane + "-records" },
      { text: bytes(l.backlog_bytes), num: true, value: l.backlog_bytes, id: "lane-" + lane + "-bytes" },
      { text: l.backlog_records ? seconds(l.oldest_age_seconds) : "–", num: true, value: l.oldest_age_seconds }]));
  }
}

function drawRetention(r) {
  const body = clear(byId("retention"));
  for (const d of r.deleted_cycles) {
    body.appendChild(row([{ text: new Date(d.at).toLocaleString() }, { text: d.lane },
      { text: String(d.events), num: true }, { text: String(d.unsynced_events), num: true },
      { text: bytes(d.bytes), num: true }, { text: d.reason }]));
  }
  if (!r.deleted_cycles.length) body.appendChild(row([{ text: "none" }]));
}

function drawAlerts(ndjson, now) {
  const list = clear(byId("alerts"));
  const events = ndjson.split("\n").filter(l => l.trim()).map(l => JSON.parse(l)).filter(e => e.stream);
  for (const e of events.reverse().slice(0, 50)) {
    const d = e.data || {};
    list.appendChild(el("li", ago(e.ingest_time, now) + " · " + (d.rule || e.key || "alert") +
      (d.score !== undefined ? " score " + d.score : "") + (d.source ? " · " + d.source.stream + " #" + d.source.seq : "")));
  }
  list.dataset.count = String(events.length);
  if (!events.length) emptyItem(list, "none in the last hour");
}

function drawQuarantine(q) {
  const list = clear(byId("quarantine"));
  for (const x of q.quarantined) {
    list.appendChild(el("li", new Date(x.found_at).toLocaleString() + " · " + x.kind + " " + x.location +
      " · " + bytes(x.bytes) + " · " + x.file));
  }
  if (!q.quarantined.length) emptyItem(list, "nothing quarantined");
}

function fleetValue(n, key) {
  switch (key) {
    case "node": return n.node;
    case "last_seen": return n.last_seen || 0;
    case "backlog": return n.backlog_records === undefined || n.backlog_records === null ? -1 : n.backlog_records;
    case "lag": return n.lag_seconds === undefined || n.lag_seconds === null ? -1 : n.lag_seconds;
    case "errors": return n.errors || 0;
    case "last_error": return n.last_error ? n.last_error.message : "";
    default: return "";
  }
}

function drawFleet(now) {
  const rows = fleetRows.slice().sort((a, b) => {
    const x = fleetValue(a, fleetSort.key), y = fleetValue(b, fleetSort.key);
    return (x < y ? -1 : x > y ? 1 : 0) * fleetSort.dir || (a.node < b.node ? -1 : 1);
  });
  const body = clear(byId("fleet-nodes"));
  for (const n of rows) {
    const tr = row([{ text: n.node },
      { text: n.seen ? ago(n.last_seen, now) : "never", value: n.last_seen || 0 },
      { text: n.backlog_records === undefined || n.backlog_records === null ? "–"
          : n.backlog_records + " (" + bytes(n.backlog_bytes) + ")", num: true, value: fleetValue(n, "backlog") },
      { text: seconds(n.lag_seconds), num: true, value: fleetValue(n, "lag") },
      { text: String(n.errors || 0), num: true, value: n.errors || 0 },
      { text: n.last_error ? ago(n.last_error.at, now) + ": " + n.last_error.message : "" }]);
    tr.dataset.node = n.node;
    body.appendChild(tr);
  }
  for (const th of document.querySelectorAll("#fleet-table th")) {
    th.classList.toggle("asc", th.dataset.key === fleetSort.key && fleetSort.dir === 1);
    th.classList.toggle("desc", th.dataset.key === fleetSort.key && fleetSort.dir === -1);
  }
}

// ---- refresh loop ----

function problem(text) {
  const p = byId("problem");
  p.hidden = !text;
  p.textContent = text || "";
}

// Each panel is drawn from its own answer: one endpoint failing (or missing on an older agent) leaves
// the others up to date, and the banner names what could not be read.
async function refresh() {
  const now = Date.now();
  try {
    const h = await get("/v1/status/history");
    byId("node").textContent = h.node;
    byId("role").textContent = h.hub ? "hub" : "edge";
    byId("fleet").hidden = !h.hub;
    const alerts = "/v1/events?stream=" + encodeURIComponent(h.alert_stream) + "&from_time=" + (h.now - HOUR_MILLIS);
    const panels = [
      ["/v1/governor", g => drawGovernor(g, h.now)],
      ["/v1/sync/status", s => drawSync(s, h.now)],
      ["/v1/retention?limit=20", drawRetention],
      ["/v1/quarantine", drawQuarantine],
      [alerts, a => drawAlerts(a, h.now)],
    ];
    if (h.hub) panels.push(["/v1/fleet/nodes", f => { fleetRows = f.nodes; drawFleet(h.now); }]);
    const answers = await Promise.allSettled(panels.map(p => get(p[0])));
    drawHistory(h);
    const failed = [];
    answers.forEach((a, i) => {
      if (a.status === "fulfilled") panels[i][1](a.value);
      else failed.push(a.reason);
    });
    if (failed.some(e => e instanceof Unauthorized)) throw new Unauthorized();
    byId("token-form").hidden = true;
    problem(failed.length ? "Could not read: " + failed.map(e => e.message).join("; ") + " (retrying)" : "");
    setValue("updated", new Date(now).toLocaleTimeString(), now);
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
  } catch (e) {
    if (e instanceof Unauthorized) {
      byId("token-form").hidden = false;
    } else {
      problem("Cannot read the agent: " + e.message + " (retrying)");
    }
  }
}

function start() {
  byId("token-use").addEventListener("click", () => {
    token = byId("token").value.trim();
    sessionStorage.setItem("outpost.token", token);
    refresh();
  });
  for (const th of document.querySelectorAll("#fleet-table th")) {
    th.addEventListener("click", () => {
      fleetSort = { key: th.dataset.key, dir: fleetSort.key === th.dataset.key ? -fleetSort.dir : 1 };
      drawFleet(Date.now());
    });
  }
  refresh();
  setInterval(refresh, REFRESH_MILLIS);
}

document.addEventListener("DOMContentLoaded", start);
