// nedb's web console: served by nedbd at /, talks to its /v1 routes.
// Everything shown comes from the server as JSON and is put on the page
// as text (textContent), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const SQL_WORDS = /^\s*(select|insert|update|delete|create|drop|explain|with|values)\b/i;
let token = sessionStorage.getItem("nedb-token") || "";

function setStatus(text, bad) {
  const s = $("status");
  s.textContent = text;
  s.className = bad ? "bad" : "";
}

// A call to the server: the parsed JSON, or an Error with its message.
async function api(path, body) {
  const opts = { headers: {} };
  if (token) opts.headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    const err = new Error((data && data.error) || (r.status + " " + r.statusText));
    err.status = r.status;
    throw err;
  }
  return data;
}

function dbPath(rest) {
  return "/v1/databases/" + encodeURIComponent($("db").value) + rest;
}

function cell(v) {
  const td = document.createElement("td");
  if (v === undefined || v === null) {
    td.textContent = v === null ? "null" : "";
    td.className = "null";
  } else {
    td.textContent = typeof v === "string" ? v : JSON.stringify(v);
  }
  return td;
}

// The order of two cells' values for sorting: absent and null first,
// then numbers, then everything else as text.
function order(a, b) {
  const rank = (v) => (v === undefined || v === null ? 0 : typeof v === "number" ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 0) return 0;
  if (rank(a) === 1) return a - b;
  const x = typeof a === "string" ? a : JSON.stringify(a);
  const y = typeof b === "string" ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// Rows as a table: the columns are the union of the rows' top-level
// members, in the order they are first seen.  A click on a column's
// header sorts the rows by it; another click reverses the order.
function fillTable(table, rows) {
  table.replaceChildren();
  const cols = [];
  const seen = new Set();
  const objects = rows.every((r) => r && typeof r === "object" && !Array.isArray(r));
  if (objects) {
    for (const r of rows)
      for (const k of Object.keys(r))
        if (!seen.has(k)) { seen.add(k); cols.push(k); }
  }
  const names = objects ? cols : ["value"];
  const get = (r, c) => (objects ? r[c] : r);
  const head = table.createTHead().insertRow();
  const body = table.createTBody();
  let by = -1, dir = 1;
  const render = () => {
    body.replaceChildren();
    for (const r of rows) {
      const tr = body.insertRow();
      for (const c of names) tr.appendChild(cell(get(r, c)));
    }
    names.forEach((c, i) => {
      head.cells[i].textContent = c + (i === by ? (dir > 0 ? " \u25b2" : " \u25bc") : "");
      head.cells[i].setAttribute("aria-sort", i !== by ? "none" : dir > 0 ? "ascending" : "descending");
    });
  };
  names.forEach((c, i) => {
    const th = document.createElement("th");
    th.addEventListener("click", () => {
      dir = by === i ? -dir : 1;
      by = i;
      rows = rows.slice().sort((a, b) => dir * order(get(a, c), get(b, c)));
      render();
    });
    head.appendChild(th);
  });
  render();
}

async function signIn(ev) {
  const first = !ev;
  if (ev) ev.preventDefault();
  token = $("token").value || token;
  try {
    const d = await api("/v1/databases");
    sessionStorage.setItem("nedb-token", token);
    const sel = $("db");
    const keep = sel.value || sessionStorage.getItem("nedb-db");
    sel.replaceChildren();
    for (const db of d.databases) {
      const o = document.createElement("option");
      o.value = o.textContent = db.name;
      sel.appendChild(o);
    }
    if (keep && d.databases.some((db) => db.name === keep)) sel.value = keep;
    sel.disabled = false;
    for (const b of ["run", "hist-go", "verify"]) $(b).disabled = !d.databases.length;
    $("signout").hidden = false;
    setStatus(d.databases.length ? "signed in" : "signed in: no databases yet");
    if (d.databases.length) await pickDb();
  } catch (e) {
    token = "";
    sessionStorage.removeItem("nedb-token");
    if (first && e.status === 401) setStatus("sign in with the server's token");
    else setStatus(e.status === 401 ? "sign-in failed: " + e.message : e.message, true);
  }
}

function signOut() {
  token = "";
  sessionStorage.removeItem("nedb-token");
  $("db").replaceChildren();
  $("db").disabled = true;
  for (const b of ["run", "hist-go", "verify"]) $(b).disabled = true;
  $("signout").hidden = true;
  setStatus("signed out");
}

async function pickDb() {
  sessionStorage.setItem("nedb-db", $("db").value);
  $("chain").textContent = "";
  await showLog();
}

async function runQuery() {
  const text = $("query").value.trim();
  const err = $("query-error");
  err.hidden = true;
  if (!text) return;
  const sql = SQL_WORDS.test(text);
  const t0 = performance.now();
  try {
    const d = await api(dbPath(sql ? "/sql" : "/query"), sql ? { sql: text } : { nql: text });
    const rows = d.rows || (d.plan ? [d.plan] : []);
    fillTable($("results"), rows);
    $("query-info").textContent = rows.length + " row" + (rows.length === 1 ? "" : "s") +
      " at seq " + d.seq + " (" + Math.round(performance.now() - t0) + " ms)";
  } catch (e) {
    $("results").replaceChildren();
    $("query-info").textContent = "";
    err.textContent = e.message;
    err.hidden = false;
  }
}

let versions = [];

function showVersion() {
  const seq = Number($("hist-slider").value);
  $("hist-seq").textContent = String(seq);
  // the version current as of seq: the last one written at or before it
  let v = null;
  for (const x of versions) if (x.seq <= seq) v = x;
  if (!v) {
    $("hist-meta").textContent = "not yet written as of seq " + seq;
    $("hist-doc").textContent = "";
  } else {
    $("hist-meta").textContent = v.op + " at seq " + v.seq + ", " + new Date(v.ts).toISOString();
    $("hist-doc").textContent = v.doc === null ? "(deleted)" : JSON.stringify(v.doc, null, 2);
  }
}

async function showHistory(ev) {
  ev.preventDefault();
  const coll = $("hist-coll").value.trim(), id = $("hist-id").value.trim();
  const err = $("history-error");
  err.hidden = true;
  $("history").hidden = true;
  try {
    const d = await api(dbPath("/rows/" + encodeURIComponent(coll) + "/" +
                               encodeURIComponent(id) + "?history=1"));
    versions = d.versions;
    const s = $("hist-slider");
    s.min = versions.length ? versions[0].seq : 0;
    s.max = d.seq;
    s.value = versions.length ? versions[versions.length - 1].seq : 0;
    $("history").hidden = false;
    showVersion();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

async function verify() {
  const c = $("chain");
  c.textContent = "verifying…";
  c.className = "";
  try {
    const d = await api(dbPath("/verify"));
    c.textContent = d.ok ? "chain ok: " + (d.seq + 1) + " ops, head " + d.head.slice(0, 16) + "…"
                         : "chain BROKEN at seq " + d.seq + ": " + d.error;
    c.className = d.ok ? "ok" : "bad";
  } catch (e) {
    c.textContent = e.message;
    c.className = "bad";
  }
  await showLog();
}

async function showLog() {
  try {
    const d = await api(dbPath("/log?limit=20"));
    fillTable($("log"), d.entries.map((o) => ({
      seq: o.seq, op: o.op, coll: o.coll, id: o.id,
      time: typeof o.ts === "number" ? new Date(o.ts).toISOString() : o.ts,
      hash: typeof o.hash === "string" ? o.hash.slice(0, 16) + "…" : o.hash,
    })));
  } catch (e) {
    $("log").replaceChildren();
    setStatus(e.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("db").addEventListener("change", pickDb);
  $("run").addEventListener("click", runQuery);
  $("query").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); runQuery(); }
  });
  $("history-form").addEventListener("submit", showHistory);
  $("hist-slider").addEventListener("input", showVersion);
  $("verify").addEventListener("click", verify);
  // a token kept from before (this tab's): signed in again; else the
  // form waits (an empty token signs in to a server that has none)
  if (token) signIn();
  else setStatus("sign in with the server's token");
});
