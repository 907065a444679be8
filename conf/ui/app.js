// warmline's live-calls page: polls GET /v1/calls, and for the call picked (a click, or #call=<id> in
// the URL) GET /v1/calls/{id} and /v1/calls/{id}/ladder (docs/http-api.md).
//
// Everything shown comes from SIP peers and the API (hostile text): it is only ever set with
// textContent on elements made here, never parsed as HTML. The API token, when the node has one, is
// asked for once and kept in sessionStorage (this tab only).
"use strict";

const POLL_MS = 1500;
const TOKEN_KEY = "warmline_token";
let selected = null;   // the call id whose detail is shown
let timer = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function setStatus(text, error) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.classList.toggle("error", !!error);
}

class AuthNeeded extends Error {}

async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const r = await fetch(path, { headers, cache: "no-store" });
  if (r.status === 401) throw new AuthNeeded();
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(path + " answered " + r.status);
  return r.json();
}

function duration(startedAt) {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(startedAt)) / 1000));
  const m = Math.floor(s / 60);
  return m + ":" + String(s % 60).padStart(2, "0");
}

function transferText(t) {
  if (!t) return "";
  let text = t.mode + " → " + t.target + ": " + t.state;
  if (t.result) text += " (" + t.result + (t.sip_status ? " " + t.sip_status : "") + ")";
  return text;
}

function renderCalls(calls) {
  const body = document.querySelector("#calls tbody");
  body.replaceChildren();
  for (const c of calls) {
    const tr = el("tr");
    tr.dataset.call = c.id;
    if (c.id === selected) tr.classList.add("selected");
    for (const v of [c.id, c.from, c.to, c.agent, c.state, duration(c.started_at), transferText(c.transfer)])
      tr.appendChild(el("td", null, v));
    tr.addEventListener("click", () => { location.hash = "call=" + encodeURIComponent(c.id); });
    body.appendChild(tr);
  }
  document.getElementById("no-calls").hidden = calls.length > 0;
}

function timeOf(at) {
  // "2026-12-06T03:47:25.123Z" -> "03:47:25.123"
  const i = at.indexOf("T");
  return i < 0 ? at : at.slice(i + 1).replace("Z", "");
}

function renderPhases(call) {
  const box = document.getElementById("phases");
  box.replaceChildren();
  const t = call.transfer;
  if (!t) {
    box.appendChild(el("p", "hint", "No transfer."));
    return;
  }
  box.appendChild(el("p", null, "Transfer " + t.id + ": " + transferText(t)));
  for (const p of t.phases || []) {
    const span = el("span", "phase " + p.phase);
    let label = p.phase;
    if (p.target) label += " " + p.target;
    if (p.result) label += " (" + p.result + ")";
    if (p.sip_status) label += " " + p.sip_status;
    span.appendChild(el("span", "name", label));
    span.appendChild(el("span", "at", timeOf(p.at)));
    box.appendChild(span);
  }
}

// Columns: time | caller | arrow | warmline | arrow | b1 | arrow | b2 ...
function renderLadder(ladder) {
  const dialled = [];
  for (const l of ladder.legs) if (l.leg !== "a") dialled.push(l.leg);
  for (const e of ladder.entries) if (e.leg !== "a" && !dialled.includes(e.leg)) dialled.push(e.leg);
  const nodes = ["caller", "warmline", ...dialled.map((l) => "target " + l)];

  const head = document.querySelector("#ladder thead tr");
  head.replaceChildren(el("th", "time", "time"));
  nodes.forEach((n, i) => {
    if (i > 0) head.appendChild(el("th", "gap"));
    head.appendChild(el("th", "node", n));
  });

  const body = document.querySelector("#ladder tbody");
  body.replaceChildren();
  for (const e of ladder.entries) {
    const tr = el("tr", "ladder-row");
    tr.dataset.leg = e.leg;
    tr.dataset.direction = e.direction;
    tr.appendChild(el("td", "time", timeOf(e.at)));
    // The arrow sits between warmline and the leg's node: caller left of warmline, targets right.
    const gap = e.leg === "a" ? 0 : 1 + dialled.indexOf(e.leg);
    // Left to right: from the caller to warmline (in on leg a), or from warmline to a target (out).
    const rightward = (e.leg === "a") === (e.direction === "in");
    nodes.forEach((_, i) => {
      if (i > 0) {
        const cell = el("td", "arrow");
        if (i - 1 === gap) {
          const response = /^[0-9]{3} /.test(e.first_line);
          cell.classList.add(response ? "response" : "request");
          if (response && Number(e.first_line.slice(0, 3)) >= 300) cell.classList.add("error");
          cell.appendChild(el("span", "label", e.first_line));
          cell.appendChild(el("span", "line " + (rightward ? "right" : "left")));
          const cseq = "CSeq " + e.cseq + " " + e.cseq_method;
          cell.appendChild(el("span", "detail", e.detail ? cseq + " · " + e.detail : cseq));
          cell.title = e.first_line + (e.detail ? "\n" + e.detail : "");
        }
        tr.appendChild(cell);
      }
      tr.appendChild(el("td", "node"));
    });
    body.appendChild(tr);
  }
  document.getElementById("ladder-note").textContent =
    ladder.entries.length + " messages" + (ladder.dropped ? " (" + ladder.dropped + " older ones dropped)" : "");
}

async function renderDetail() {
  const detail = document.getElementById("detail");
  if (!selected) {
    detail.hidden = true;
    return;
  }
  const [call, ladder] = await Promise.all([
    api("/v1/calls/" + encodeURIComponent(selected)),
    api("/v1/calls/" + encodeURIComponent(selected) + "/ladder"),
  ]);
  detail.hidden = false;
  document.getElementById("detail-id").textContent = selected;
  if (!call || !ladder) {
    document.getElementById("detail-state").textContent = "gone";
    return;
  }
  document.getElementById("detail-state").textContent = call.state;
  renderPhases(call);
  renderLadder(ladder);
}

async function poll() {
  clearTimeout(timer);
  try {
    const list = await api("/v1/calls");
    renderCalls(list ? list.calls : []);
    await renderDetail();
    document.getElementById("auth").hidden = true;
    setStatus("updated " + new Date().toLocaleTimeString());
  } catch (e) {
    if (e instanceof AuthNeeded) {
      document.getElementById("auth").hidden = false;
      setStatus("the API needs its token", true);
      return;  // polling resumes once a token is given
    }
    setStatus(String(e.message || e), true);
  }
  timer = setTimeout(poll, POLL_MS);
}

function readHash() {
  const m = /^#call=(.+)$/.exec(location.hash);
  selected = m ? decodeURIComponent(m[1]) : null;
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value);
    document.getElementById("token").value = "";
    poll();
  });
  window.addEventListener("hashchange", () => { readHash(); poll(); });
  readHash();
  poll();
});
