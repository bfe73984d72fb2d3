// riskdesk dashboard: polls the service with a read-scoped API key.
// The key arrives once in the URL fragment (#key=...), which browsers never send to a server,
// is kept in this browser's localStorage and removed from the address bar.
//
// One request cycle at a time: the next cycle is scheduled POLL_MS after the previous one
// ended (answered, failed or timed out after TIMEOUT_MS), so a slow API never piles up
// requests. The 24-hour capital history (up to one snapshot every 10 s) is fetched every
// HISTORY_MS, not on every cycle. When a cycle fails, the figures stay on screen, dimmed,
// under a banner saying how old they are.
//
// The capital card says when the broker's account state was read (capital_state.as_of) and
// marks it stale when older, or further ahead, than STATE_MAX_AGE_S: against the server's
// time of the answer (its HTTP Date header), or this browser's clock where it has none.
"use strict";

const KEY_STORE = "riskdesk.apiKey";
const POLL_MS = 2000;
const TIMEOUT_MS = 10000;
const HISTORY_MS = 30000;
const HISTORY_HOURS = 24;
const STATE_MAX_AGE_S = 60;
const openTrails = new Set();
let pollTimer = null;
let inFlight = null;    // AbortController of the cycle in flight
let generation = 0;     // bumped by stop(): answers of an older loop are dropped
let lastOk = null;      // when the figures on screen were read (Date)
let lastEntries = [];   // the decisions on screen, to re-render a toggled trail at once
let capitalHistory = null;  // capital snapshots of the last HISTORY_HOURS
let historyAt = 0;

function takeKeyFromFragment() {
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (m) {
    let key = m[1];
    try { key = decodeURIComponent(key); } catch (e) { /* keep it as written */ }
    localStorage.setItem(KEY_STORE, key);
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function apiKey() { return localStorage.getItem(KEY_STORE); }

// The API's own explanation of an error: {"detail": "..."} or a list of fields (422).
async function errorDetail(res) {
  try {
    const body = await res.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => d.field + ": " + d.msg).join("; ");
  } catch (e) { /* not JSON */ }
  return res.statusText || "";
}

// The body of the answer and the server's time of it (its Date header; null without one).
async function answer(path, signal) {
  let res;
  try {
    res = await fetch(path, { headers: { "X-API-Key": apiKey() || "" }, signal: signal, cache: "no-store" });
  } catch (e) {
    if (signal && signal.aborted) throw new Error("no answer within " + TIMEOUT_MS / 1000 + " s");
    throw new Error("the service cannot be reached");
  }
  if (res.status === 401 || res.status === 403) {
    const err = new Error("the API key was refused (" + res.status + ")");
    err.auth = true;
    throw err;
  }
  if (!res.ok) {
    const detail = await errorDetail(res);
    throw new Error(path.split("?")[0] + " answered " + res.status + (detail ? ": " + detail : ""));
  }
  const date = Date.parse(res.headers.get("Date") || "");
  return { body: await res.json(), serverTime: isNaN(date) ? null : date };
}

async function api(path, signal) { return (await answer(path, signal)).body; }

const $ = (id) => document.getElementById(id);

function fmtMoney(v) {
  if (v === null || v === undefined || v === "") return "–";
  const n = Number(v);
  return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
function fmtSignedMoney(v) {
  const s = fmtMoney(v);
  return Number(v) > 0 ? "+" + s : s;
}
function fmtNum(v, digits) {
  if (v === null || v === undefined || v === "") return "–";
  return Number(v).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 6 : digits });
}
// A decimal string (quantities, leverage) as sent, thousands grouped, no digit rounded away.
function fmtDecimal(v) {
  if (v === null || v === undefined || v === "") return "–";
  const s = String(v);
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  if (!m) return fmtNum(s, 12);
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (m[3] || "");
}
function fmtPct(v) {
  if (v === null || v === undefined) return "–";
  return Number(v).toFixed(2) + "%";
}
function fmtSignedPct(v) {
  if (v === null || v === undefined) return "–";
  const n = Number(v);
  return (n > 0 ? "+" : "") + n.toFixed(2) + "%";
}
// An ISO time as "YYYY-MM-DD HH:MM[:SS] UTC".
function fmtTime(iso, seconds) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace("T", " ").slice(0, seconds ? 19 : 16) + " UTC";
}
function setText(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  if (cls !== undefined) el.className = el.className.split(" ").filter((c) => c === "zone" || c === "badge").concat([cls]).join(" ");
}
function el(tag, attrs, children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children || []) e.appendChild(c);
  return e;
}

// An age in seconds in words: "5 s old", "3 min ahead", "2 days old".
function fmtAge(seconds) {
  const n = Math.abs(seconds);
  const text = n < 120 ? Math.round(n) + " s" : n < 7200 ? Math.round(n / 60) + " min"
    : n < 172800 ? Math.round(n / 3600) + " h" : Math.round(n / 86400) + " days";
  return text + (seconds < 0 ? " ahead" : " old");
}

// When the broker's account state was read, against the server's time of the answer
// (serverTime, ms) or, where the answer had none, this browser's clock; stale when undated or
// more than STATE_MAX_AGE_S away from it. Text only: as_of is shown as sent when unreadable.
function renderAsOf(asOf, serverTime) {
  const dd = $("cap-as-of");
  const read = asOf ? Date.parse(asOf) : NaN;
  const byServer = serverTime !== null && serverTime !== undefined;
  let text, stale;
  if (isNaN(read)) {
    text = asOf ? String(asOf) + " (not a time)" : "not dated by the broker";
    stale = true;
  } else {
    let age = ((byServer ? serverTime : Date.now()) - read) / 1000;
    // The Date header counts whole seconds: a read within the same second is not "ahead".
    if (age < 0 && age > -2) age = 0;
    stale = Math.abs(age) > STATE_MAX_AGE_S;
    text = fmtTime(asOf, true) + " (" + fmtAge(age) + ")";
  }
  dd.textContent = stale ? "STALE: " + text : text;
  dd.className = stale ? "bad stale-state" : "";
  dd.dataset.stale = String(stale);
  dd.title = (byServer ? "age against the server's time of the answer"
    : "age against this browser's clock (the answer carried no server time)") +
    "; stale beyond " + STATE_MAX_AGE_S + " s";
}

function renderCapital(c, serverTime) {
  setText("capital-status", c.capital_status, c.capital_status);
  setText("cap-wallet", fmtMoney(c.total_wallet_balance));
  setText("cap-equity", fmtMoney(c.equity));
  setText("cap-available", fmtMoney(c.available_balance));
  setText("cap-margin", fmtMoney(c.margin_used) + " (" + fmtPct(c.margin_used_pct) + ")");
  const upnl = Number(c.unrealized_pnl);
  setText("cap-upnl", fmtSignedMoney(c.unrealized_pnl), upnl < 0 ? "bad" : upnl > 0 ? "ok" : "");
  setText("cap-bp", fmtMoney(c.buying_power));
  const r = c.reserved || { count: 0, notional: "0" };
  setText("cap-reserved", fmtMoney(r.notional) + " (" + r.count + (r.count === 1 ? " order)" : " orders)"),
    r.count ? "held" : "muted");
  renderAsOf(c.as_of, serverTime);
}

function renderMargin(m) {
  setText("margin-zone", m.zone, "zone " + m.zone);
  const pct = Math.max(0, Math.min(100, Number(m.margin_used_pct)));
  const bar = $("margin-bar");
  bar.style.width = pct + "%";
  bar.style.background = getComputedStyle(document.documentElement)
    .getPropertyValue({ GREEN: "--green", YELLOW: "--yellow", ORANGE: "--orange", RED: "--red" }[m.zone] || "--blue");
  setText("margin-action", fmtPct(m.margin_used_pct) + " of equity used · " + (m.action || "") +
    (m.entries_allowed === false ? " · new entries refused" : ""));
}

const REASON_TEXT = {
  TRADING_HALTED: "set by an operator",
  TRADING_REDUCING: "set by an operator",
  BREAKER_TRIPPED: "drawdown circuit breaker tripped",
  MARGIN_RED: "margin zone RED",
  DAILY_LOSS_LIMIT: "daily loss limit reached",
  WEEKLY_LOSS_LIMIT: "weekly loss limit reached",
  DRAWDOWN_HEAVY: "heavy drawdown",
};
const reasonText = (code) => REASON_TEXT[code] || code;

function breakerText(d) {
  const b = d.breaker || {};
  return "TRIPPED" + (d.breaker_until ? " until " + fmtTime(d.breaker_until) : "") +
    (b.reason ? " (" + b.reason + ")" : "");
}

// Reasons that keep new entries out although the desk is ACTIVE (loss limits, margin zone).
function entryBlocks(a) {
  const blocks = (a.drawdown_status.reasons || []).filter((r) => r !== "DRAWDOWN_HEAVY");
  if (a.drawdown_status.entries_allowed === false && !blocks.length) blocks.push("drawdown limits");
  if (a.margin_status.entries_allowed === false) blocks.push("margin zone " + a.margin_status.zone);
  return blocks;
}

function renderDrawdown(a) {
  const d = a.drawdown_status;
  setText("dd-state", d.state, "zone " + d.state);
  setText("dd-pct", fmtPct(d.drawdown_pct));
  setText("dd-mult", "× " + fmtNum(d.size_multiplier, 2));
  if (d.breaker_tripped) setText("dd-breaker", breakerText(d), "bad"); else setText("dd-breaker", "armed", "ok");
  const day = Number(d.daily_pnl_pct), week = Number(d.weekly_pnl_pct);
  setText("dd-pnl", fmtSignedPct(d.daily_pnl_pct) + " / " + fmtSignedPct(d.weekly_pnl_pct),
    day < 0 || week < 0 ? "bad" : "");
  const blocks = entryBlocks(a);
  if (a.trading_state !== "ACTIVE") setText("dd-entries", "refused (" + a.trading_state + ")", "bad");
  else if (blocks.length) setText("dd-entries", "refused: " + blocks.map(reasonText).join(", "), "bad");
  else setText("dd-entries", "allowed", "ok");
}

// A banner for every state in which the desk refuses what a bot may expect it to accept.
function renderAlerts(a, o) {
  const box = $("alerts");
  box.replaceChildren();
  const d = a.drawdown_status;
  // TRADING_HALTED / TRADING_REDUCING head the reasons of any state but ACTIVE; alone they mean
  // an operator set it, and beside an automatic halt (breaker, margin RED) they add nothing.
  const codes = d.trading_state_reasons || [];
  const auto = codes.filter((r) => r !== "TRADING_HALTED" && r !== "TRADING_REDUCING");
  const why = (auto.length ? auto : codes).map((r) =>
    r === "BREAKER_TRIPPED" ? reasonText(r) + (d.breaker_until ? " until " + fmtTime(d.breaker_until) : "") : reasonText(r));
  const add = (cls, title, text) => box.appendChild(el("div", { class: "banner " + cls, "data-kind": title }, [
    el("strong", { text: title }), el("span", { text: text })]));
  // The operator's own action, when the operator set what is in force: who, when and why.
  const last = o && o.operator_state !== "ACTIVE" && o.changes && o.changes[0];
  const by = last ? " Set by " + last.operator + " at " + fmtTime(last.at) +
    (last.note ? ": \u201c" + last.note + "\u201d" : "") + "." : "";
  if (a.trading_state === "HALTED") {
    add("bad", "TRADING HALTED", "New exposure is refused; risk-reducing orders still pass." +
      (why.length ? " Why: " + why.join("; ") + "." : "") + by);
  } else if (a.trading_state === "REDUCING") {
    add("warn", "REDUCE-ONLY", "Only risk-reducing orders are accepted." +
      (why.length ? " Why: " + why.join("; ") + "." : "") + by);
  }
  if (d.breaker_tripped && a.trading_state !== "HALTED") {
    add("bad", "CIRCUIT BREAKER TRIPPED", breakerText(d) + ".");
  }
  const blocks = entryBlocks(a).filter((r) => r !== "BREAKER_TRIPPED");
  if (a.trading_state === "ACTIVE" && blocks.length) {
    add("warn", "NEW ENTRIES REFUSED", blocks.map(reasonText).join(", ") + ".");
  }
  document.body.dataset.tradingState = a.trading_state;
}

function renderBars(tbodyId, rows, label, extra) {
  const body = $(tbodyId);
  body.replaceChildren();
  if (!rows.length) {
    body.appendChild(el("tr", {}, [el("td", { class: "muted", text: "no open exposure" })]));
    return;
  }
  const max = Math.max(...rows.map((r) => Math.abs(Number(r.pct_of_equity))), 1e-9);
  for (const r of rows) {
    const fill = el("div", { class: "fill" });
    fill.style.width = (100 * Math.abs(Number(r.pct_of_equity)) / max).toFixed(1) + "%";
    const attrs = { "data-key": r[label] };
    if (r.reserved) { attrs["data-kind"] = "reserved"; attrs.class = "reserved"; }
    const cells = [
      el("td", { text: r[label] + (r.side ? " " + r.side : "") }),
      el("td", { class: "num", text: fmtMoney(r.notional) }),
      el("td", { class: "num", text: fmtPct(r.pct_of_equity) }),
    ];
    if (extra) cells.push(el("td", { class: "num muted", text: extra(r) }));
    cells.push(el("td", { class: "bar" }, [fill]));
    body.appendChild(el("tr", attrs, cells));
  }
}

// Open positions, then the budget that pending orders (reservations) hold, one row per symbol.
function symbolRows(positions, c) {
  const equity = Number(c.equity);
  const reserved = ((c.reserved || {}).by_symbol || []).map((r) => ({
    symbol: r.symbol, notional: r.notional, reserved: true,
    side: "reserved" + (r.count > 1 ? " ×" + r.count : ""),
    pct_of_equity: equity > 0 ? 100 * Number(r.notional) / equity : 0,
  }));
  return positions.concat(reserved);
}

// The snapshots, placed by their time, and the equity read now as the last point.
function equityPoints(points, c) {
  const out = points.map((p) => ({ t: Date.parse(p.at), v: Number(p.equity) }))
    .filter((p) => !isNaN(p.t) && isFinite(p.v));
  const now = c && c.as_of ? Date.parse(c.as_of) : NaN;
  if (!isNaN(now) && (!out.length || now > out[out.length - 1].t)) out.push({ t: now, v: Number(c.equity) });
  return out;
}

function renderEquity(points, c) {
  const svg = $("equity-curve");
  svg.replaceChildren();
  const pts = equityPoints(points || [], c);
  if (pts.length === 0) { setText("equity-note", "no capital history yet"); return; }
  const W = 600, H = 160, pad = 8;
  const ys = pts.map((p) => p.v);
  const low = Math.min(...ys), high = Math.max(...ys);
  let lo = low, hi = high;
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
  // A single point (or points at one instant) is drawn as a level line across the chart.
  const x = (p, i) => t1 > t0 ? pad + (W - 2 * pad) * (p.t - t0) / (t1 - t0) : (i ? W - pad : pad);
  const drawn = t1 > t0 ? pts : [pts[0], pts[pts.length - 1]];
  const y = (v) => H - pad - (H - 2 * pad) * (v - lo) / (hi - lo);
  const line = drawn.map((p, i) => (i ? "L" : "M") + x(p, i).toFixed(1) + " " + y(p.v).toFixed(1)).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  const area = document.createElementNS(ns, "path");
  area.setAttribute("class", "area");
  const xl = x(drawn[drawn.length - 1], drawn.length - 1).toFixed(1), xf = x(drawn[0], 0).toFixed(1);
  area.setAttribute("d", line + " L" + xl + " " + (H - pad) + " L" + xf + " " + (H - pad) + " Z");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("class", "line");
  path.setAttribute("d", line);
  svg.append(area, path);
  const span = t1 > t0 ? fmtTime(new Date(t0).toISOString()) + " → " + fmtTime(new Date(t1).toISOString()) : fmtTime(new Date(t1).toISOString());
  setText("equity-note", span + " · " + pts.length + " points · low " + fmtMoney(low) + " · high " + fmtMoney(high) +
    " · last " + fmtMoney(ys[ys.length - 1]));
}

function trailRow(entry) {
  const rows = (entry.trail || []).map((a) => el("tr", {}, [
    el("td", { text: a.step }), el("td", { class: "code", text: a.code }),
    el("td", { class: "num", text: fmtNum(a.before, 4) }), el("td", { class: "num", text: fmtNum(a.after, 4) }),
    el("td", { text: a.note || "" }),
  ]));
  if (!rows.length) rows.push(el("tr", {}, [el("td", { colspan: "5", class: "muted", text: "no adjustments recorded" })]));
  const table = el("table", {}, [
    el("thead", {}, [el("tr", {}, ["step", "code", "before", "after", "note"].map((h) =>
      el("th", h === "before" || h === "after" ? { class: "num", text: h } : { text: h })))]),
    el("tbody", {}, rows),
  ]);
  return el("tr", { class: "trail", "data-trail-for": String(entry.id) }, [el("td", { colspan: "9" }, [table])]);
}

function renderDecisions(entries) {
  lastEntries = entries;
  const body = $("decisions");
  body.replaceChildren();
  if (!entries.length) {
    body.appendChild(el("tr", {}, [el("td", { colspan: "9", class: "muted", text: "no decisions yet" })]));
    return;
  }
  for (const e of entries) {
    const key = String(e.id);
    const tr = el("tr", { class: "row", "data-decision-id": key, tabindex: "0",
      "aria-expanded": String(openTrails.has(key)) }, [
      el("td", { text: (e.decided_at || "").replace("T", " ").slice(0, 19) }),
      el("td", { text: e.symbol }), el("td", { text: e.side }),
      el("td", { class: e.action, text: e.action }),
      el("td", { class: "num", text: fmtDecimal(e.quantity) }),
      el("td", { class: "num", text: fmtMoney(e.notional) }),
      el("td", { class: "num", text: fmtDecimal(e.leverage) + "×" }),
      el("td", { text: e.binding_cap || "–" }),
      el("td", { text: (e.reasons || []).join(", ") || "–" }),
    ]);
    const toggle = () => {
      if (openTrails.has(key)) openTrails.delete(key); else openTrails.add(key);
      renderDecisions(lastEntries);  // from the entries on screen: no extra request
    };
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); toggle(); } });
    body.appendChild(tr);
    if (openTrails.has(key)) body.appendChild(trailRow(e));
  }
}

function render(a, j, o, serverTime) {
  $("login").hidden = true;
  $("board").hidden = false;
  setText("trading-state", a.trading_state, "badge " + a.trading_state);
  setText("config-name", "config: " + a.config_name);
  renderAlerts(a, o);
  renderCapital(a.capital_state, serverTime);
  renderMargin(a.margin_status);
  renderDrawdown(a);
  renderBars("exposure-symbol", symbolRows(a.exposure.by_symbol, a.capital_state), "symbol");
  renderBars("exposure-tier", a.exposure.by_tier, "tier",
    (r) => r.target_pct === undefined || r.target_pct === null ? "" : "target " + fmtNum(r.target_pct, 2) + "%");
  renderEquity(capitalHistory, a.capital_state);
  renderDecisions(j.entries);
}

function markFresh() {
  lastOk = new Date();
  document.body.classList.remove("stale");
  $("conn-banner").hidden = true;
  setText("status-line", "updated " + lastOk.toISOString().slice(11, 19) + " UTC", "muted");
}

function markStale(message) {
  document.body.classList.add("stale");
  const banner = $("conn-banner");
  const age = lastOk ? Math.round((Date.now() - lastOk.getTime()) / 1000) : null;
  banner.textContent = "Not current: " + message + ". " + (lastOk
    ? "The figures below were read at " + lastOk.toISOString().slice(11, 19) + " UTC (" + age + " s ago)."
    : "Nothing could be read yet.") + " Retrying every " + POLL_MS / 1000 + " s.";
  banner.hidden = false;
  setText("status-line", "error: " + message, "bad");
}

async function refresh(gen) {
  const ctl = new AbortController();
  inFlight = ctl;
  const timeout = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    const wantHistory = capitalHistory === null || Date.now() - historyAt >= HISTORY_MS;
    // The complete analysis with the shortest history window: the curve has its own request.
    const calls = [answer("/api/capital/analysis/complete?hours=0.001", ctl.signal),
      api("/api/journal?limit=25", ctl.signal),
      api("/api/admin/trading-state?changes=1", ctl.signal)];
    if (wantHistory) calls.push(api("/api/capital/history?hours=" + HISTORY_HOURS, ctl.signal));
    const [analysis, j, o, h] = await Promise.all(calls);
    if (gen !== generation) return;
    if (h) { capitalHistory = h.points; historyAt = Date.now(); }
    render(analysis.body, j, o, analysis.serverTime);
    markFresh();
  } catch (err) {
    if (gen !== generation) return;
    if (err.auth) {
      localStorage.removeItem(KEY_STORE);
      showLogin(err.message);
    } else {
      markStale(err.message);
    }
  } finally {
    clearTimeout(timeout);
    if (inFlight === ctl) inFlight = null;
  }
}

async function tick(gen) {
  pollTimer = null;
  await refresh(gen);
  if (gen === generation) pollTimer = setTimeout(() => tick(gen), POLL_MS);
}

function stop() {
  generation += 1;
  if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
  if (inFlight) { inFlight.abort(); inFlight = null; }
}

function showLogin(message) {
  stop();
  lastOk = null;
  capitalHistory = null;
  document.body.classList.remove("stale");
  $("conn-banner").hidden = true;
  $("alerts").replaceChildren();
  $("board").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  setText("status-line", "no key", "muted");
}

function start() {
  if (!apiKey()) { showLogin(""); return; }
  stop();
  tick(generation);
}

$("key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const v = $("key-input").value.trim();
  if (v) { localStorage.setItem(KEY_STORE, v); $("key-input").value = ""; start(); }
});
$("forget-key").addEventListener("click", () => { localStorage.removeItem(KEY_STORE); showLogin("key forgotten"); });

takeKeyFromFragment();
start();
