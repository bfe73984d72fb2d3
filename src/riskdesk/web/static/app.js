// riskdesk dashboard: polls the service every 2 s with a read-scoped API key.
// The key arrives once in the URL fragment (#key=...), which browsers never send to a server,
// is kept in this browser's localStorage and removed from the address bar.
"use strict";

const KEY_STORE = "riskdesk.apiKey";
const POLL_MS = 2000;
const openTrails = new Set();
let timer = null;

function takeKeyFromFragment() {
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (m) {
    localStorage.setItem(KEY_STORE, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function apiKey() { return localStorage.getItem(KEY_STORE); }

async function api(path) {
  const res = await fetch(path, { headers: { "X-API-Key": apiKey() || "" } });
  if (res.status === 401 || res.status === 403) {
    const err = new Error("the API key was refused (" + res.status + ")");
    err.auth = true;
    throw err;
  }
  if (!res.ok) throw new Error(path + " answered " + res.status);
  return res.json();
}

const $ = (id) => document.getElementById(id);

function fmtMoney(v) {
  if (v === null || v === undefined || v === "") return "–";
  const n = Number(v);
  return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
function fmtNum(v, digits) {
  if (v === null || v === undefined || v === "") return "–";
  return Number(v).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 6 : digits });
}
function fmtPct(v) {
  if (v === null || v === undefined) return "–";
  return Number(v).toFixed(2) + "%";
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

function renderCapital(c) {
  setText("capital-status", c.capital_status, c.capital_status);
  setText("cap-wallet", fmtMoney(c.total_wallet_balance));
  setText("cap-equity", fmtMoney(c.equity));
  setText("cap-available", fmtMoney(c.available_balance));
  setText("cap-margin", fmtMoney(c.margin_used) + " (" + fmtPct(c.margin_used_pct) + ")");
  setText("cap-upnl", fmtMoney(c.unrealized_pnl), Number(c.unrealized_pnl) < 0 ? "bad" : "ok");
  setText("cap-bp", fmtMoney(c.buying_power));
  const r = c.reserved || { count: 0, notional: "0" };
  setText("cap-reserved", fmtMoney(r.notional) + " (" + r.count + (r.count === 1 ? " order)" : " orders)"),
    r.count ? "held" : "muted");
}

function renderMargin(m) {
  setText("margin-zone", m.zone, "zone " + m.zone);
  const pct = Math.max(0, Math.min(100, Number(m.margin_used_pct)));
  const bar = $("margin-bar");
  bar.style.width = pct + "%";
  bar.style.background = getComputedStyle(document.documentElement)
    .getPropertyValue({ GREEN: "--green", YELLOW: "--yellow", ORANGE: "--orange", RED: "--red" }[m.zone] || "--blue");
  setText("margin-action", fmtPct(m.margin_used_pct) + " of equity used · " + (m.action || ""));
}

function renderDrawdown(d) {
  setText("dd-state", d.state, "zone " + d.state);
  setText("dd-pct", fmtPct(d.drawdown_pct));
  setText("dd-mult", "× " + fmtNum(d.size_multiplier, 2));
  if (d.breaker_tripped) {
    setText("dd-breaker", "TRIPPED" + (d.breaker_until ? " until " + d.breaker_until.replace("T", " ").slice(0, 16) : ""), "bad");
  } else {
    setText("dd-breaker", "armed", "ok");
  }
}

function renderBars(tbodyId, rows, label) {
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
    body.appendChild(el("tr", attrs, [
      el("td", { text: r[label] + (r.side ? " " + r.side : "") }),
      el("td", { class: "num", text: fmtMoney(r.notional) }),
      el("td", { class: "num", text: fmtPct(r.pct_of_equity) }),
      el("td", { class: "bar" }, [fill]),
    ]));
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

function renderEquity(points) {
  const svg = $("equity-curve");
  svg.replaceChildren();
  const ys = points.map((p) => Number(p.equity));
  if (ys.length === 0) { setText("equity-note", "no capital history yet"); return; }
  const W = 600, H = 160, pad = 8;
  const low = Math.min(...ys), high = Math.max(...ys);
  let lo = low, hi = high;
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  // A single snapshot is drawn as a level line across the chart.
  const pts = ys.length === 1 ? [ys[0], ys[0]] : ys;
  const x = (i) => pad + (W - 2 * pad) * i / (pts.length - 1);
  const y = (v) => H - pad - (H - 2 * pad) * (v - lo) / (hi - lo);
  const line = pts.map((v, i) => (i ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1)).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  const area = document.createElementNS(ns, "path");
  area.setAttribute("class", "area");
  area.setAttribute("d", line + " L" + x(pts.length - 1).toFixed(1) + " " + (H - pad) + " L" + x(0).toFixed(1) + " " + (H - pad) + " Z");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("class", "line");
  path.setAttribute("d", line);
  svg.append(area, path);
  setText("equity-note", ys.length + " points · low " + fmtMoney(low) + " · high " + fmtMoney(high) +
    " · last " + fmtMoney(ys[ys.length - 1]));
}

function trailRow(entry) {
  const rows = (entry.trail || []).map((a) => el("tr", {}, [
    el("td", { text: a.step }), el("td", { class: "code", text: a.code }),
    el("td", { class: "num", text: fmtNum(a.before, 4) }), el("td", { class: "num", text: fmtNum(a.after, 4) }),
    el("td", { text: a.note || "" }),
  ]));
  const table = el("table", {}, [
    el("thead", {}, [el("tr", {}, ["step", "code", "before", "after", "note"].map((h) => el("th", { text: h })))]),
    el("tbody", {}, rows),
  ]);
  return el("tr", { class: "trail", "data-trail-for": String(entry.id) }, [el("td", { colspan: "9" }, [table])]);
}

function renderDecisions(entries) {
  const body = $("decisions");
  body.replaceChildren();
  if (!entries.length) {
    body.appendChild(el("tr", {}, [el("td", { colspan: "9", class: "muted", text: "no decisions yet" })]));
    return;
  }
  for (const e of entries) {
    const tr = el("tr", { class: "row", "data-decision-id": String(e.id) }, [
      el("td", { text: (e.decided_at || "").replace("T", " ").slice(0, 19) }),
      el("td", { text: e.symbol }), el("td", { text: e.side }),
      el("td", { class: e.action, text: e.action }),
      el("td", { class: "num", text: fmtNum(e.quantity) }),
      el("td", { class: "num", text: fmtMoney(e.notional) }),
      el("td", { class: "num", text: fmtNum(e.leverage, 2) + "×" }),
      el("td", { text: e.binding_cap || "–" }),
      el("td", { text: (e.reasons || []).join(", ") || "–" }),
    ]);
    tr.addEventListener("click", () => {
      const key = String(e.id);
      if (openTrails.has(key)) openTrails.delete(key); else openTrails.add(key);
      refresh();
    });
    body.appendChild(tr);
    if (openTrails.has(String(e.id))) body.appendChild(trailRow(e));
  }
}

async function refresh() {
  try {
    const [a, j] = await Promise.all([api("/api/capital/analysis/complete"), api("/api/journal?limit=25")]);
    $("login").hidden = true;
    $("board").hidden = false;
    setText("trading-state", a.trading_state, "badge " + a.trading_state);
    setText("config-name", "config: " + a.config_name);
    renderCapital(a.capital_state);
    renderMargin(a.margin_status);
    renderDrawdown(a.drawdown_status);
    renderBars("exposure-symbol", symbolRows(a.exposure.by_symbol, a.capital_state), "symbol");
    renderBars("exposure-tier", a.exposure.by_tier, "tier");
    renderEquity(a.capital_history);
    renderDecisions(j.entries);
    setText("status-line", "updated " + new Date().toISOString().slice(11, 19) + " UTC");
  } catch (err) {
    if (err.auth) {
      localStorage.removeItem(KEY_STORE);
      showLogin(err.message);
    } else {
      setText("status-line", "error: " + err.message, "bad");
    }
  }
}

function showLogin(message) {
  $("board").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  if (timer) { clearInterval(timer); timer = null; }
}

function start() {
  if (!apiKey()) { showLogin(""); return; }
  refresh();
  if (!timer) timer = setInterval(refresh, POLL_MS);
}

$("key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const v = $("key-input").value.trim();
  if (v) { localStorage.setItem(KEY_STORE, v); $("key-input").value = ""; start(); }
});
$("forget-key").addEventListener("click", () => { localStorage.removeItem(KEY_STORE); showLogin("key forgotten"); });

takeKeyFromFragment();
start();
