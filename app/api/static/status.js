// The status page: asks for the admin token once (kept in sessionStorage), then polls /api/status.
"use strict";
(function () {
  const KEY = "passerelle.adminToken";
  const REFRESH_MS = 5000;
  const $ = (id) => document.getElementById(id);
  let timer = null;

  function text(value) {
    return value === null || value === undefined || value === "" ? "—" : String(value);
  }
  function cell(row, value, cls) {
    const td = row.insertCell();
    td.textContent = text(value);  // textContent, never innerHTML: vendor data is untrusted
    if (cls) td.className = cls;
    return td;
  }
  function badge(row, state) {
    const td = row.insertCell();
    const span = document.createElement("span");
    span.className = "state state-" + state;
    span.textContent = state;
    td.appendChild(span);
  }
  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : null;
  }
  function seconds(s) {
    if (s === null || s === undefined) return null;
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    if (s < 172800) return (s / 3600).toFixed(1) + " h";
    return (s / 86400).toFixed(1) + " d";
  }
  function fill(tableId, rows, render) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren();
    for (const item of rows) render(body.insertRow(), item);
    if (!rows.length) {
      const row = body.insertRow();
      const td = row.insertCell();
      td.colSpan = $(tableId).tHead.rows[0].cells.length;
      td.className = "muted";
      td.textContent = "none";
    }
  }

  function render(status) {
    $("meta").textContent = "v" + status.version + " · up since " + when(status.started_at) +
      " · scheduler " + (status.scheduler_running ? "running" : "stopped") +
      " · refreshed " + new Date().toLocaleTimeString();
    fill("connectors", status.connectors, (row, c) => {
      cell(row, c.name);
      cell(row, c.type);
      badge(row, c.health);
      cell(row, c.records);
      cell(row, c.partitions);
      cell(row, c.webhook_mode ? c.webhook_mode + (c.webhook_detail ? ": " + c.webhook_detail : "") : null);
      if (c.health_detail) row.title = c.health_detail;
    });
    fill("pairs", status.pairs, (row, p) => {
      const run = p.last_run;
      cell(row, p.id);
      cell(row, p.source + (p.target ? " → " + p.target : "") + " (" + p.mode + ")");
      badge(row, p.state);
      cell(row, run ? when(run.finished_at || run.started_at) + " · " + run.trigger + " · " + run.status : null);
      cell(row, when(p.next_run_at));
      cell(row, run ? "+" + run.created + " ~" + run.updated + " −" + run.deleted + " =" + run.unchanged +
        (run.failed ? " ✗" + run.failed : "") : null);
      cell(row, p.records);
      cell(row, p.lag_p50_s === null ? null : seconds(p.lag_p50_s) + " / " + seconds(p.lag_p95_s));
      cell(row, p.webhook_coverage === null ? null : Math.round(p.webhook_coverage * 100) + " % of " +
        p.changes_24h);
      cell(row, run && run.error ? "[" + run.error_class + "] " + run.error : null, "error");
    });
    const held = status.pairs.flatMap((p) => p.held_deletes.map((h) => ({ pair: p.id, ...h })));
    fill("held", held, (row, h) => {
      cell(row, h.pair);
      cell(row, h.label);
      cell(row, h.missing);
      cell(row, h.reason);
      cell(row, when(h.held_at));
      if (h.approved_up_to !== null) {
        cell(row, "approved up to " + h.approved_up_to + " (" + when(h.approved_at) + ")");
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "Approve " + h.missing + " deletes";
        button.addEventListener("click", () => approve(h, button));
        row.insertCell().appendChild(button);
      }
    });
    fill("subscriptions", status.subscriptions, (row, s) => {
      cell(row, s.connector);
      cell(row, s.vendor);
      cell(row, s.partition);
      cell(row, s.id);
      badge(row, s.status);
      cell(row, s.expires_at ? when(s.expires_at) + " (in " + seconds(s.expires_in_s) + ")" : null,
        s.expires_in_s !== null && s.expires_in_s < 86400 ? "soon" : "");
    });
    const inbox = status.inbox;
    $("inbox").textContent = inbox ? "Inbox: " + inbox.pending + " pending, " + inbox.dead + " dead letters" +
      (inbox.capped ? " (at least)" : "") : "";
  }

  async function approve(held, button) {
    const question = "Delete up to " + held.missing + " records of " + held.label +
      " in the hub? They vanished from the source.";
    if (!window.confirm(question)) return;
    button.disabled = true;
    const response = await fetch("/api/pairs/" + encodeURIComponent(held.pair) + "/held-deletes/approve", {
      method: "POST",
      headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY), "Content-Type": "application/json" },
      body: JSON.stringify({ connector: held.connector, stream: held.stream, partition: held.partition,
                             up_to: held.missing }),
    });
    $("held-error").textContent = response.ok ? "" :
      "The approval was refused (HTTP " + response.status + "): " + (await response.text());
    refresh();
  }

  async function refresh() {
    const token = sessionStorage.getItem(KEY);
    if (!token) return showLogin("");
    let response;
    try {
      response = await fetch("/api/status", { headers: { Authorization: "Bearer " + token } });
    } catch (err) {
      $("refresh-error").textContent = "Cannot reach the hub: " + err;
      return schedule();
    }
    if (response.status === 401) {
      sessionStorage.removeItem(KEY);
      return showLogin("That token was refused.");
    }
    if (!response.ok) {
      $("refresh-error").textContent = "The hub answered HTTP " + response.status;
      return schedule();
    }
    $("refresh-error").textContent = "";
    render(await response.json());
    $("login").hidden = true;
    $("status").hidden = false;
    $("logout").hidden = false;
    document.body.dataset.loaded = "true";
    schedule();
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_MS);
  }
  function showLogin(message) {
    clearTimeout(timer);
    $("status").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message;
    $("token").focus();
  }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("token").value);
    $("token").value = "";
    refresh();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    showLogin("");
  });
  refresh();
})();
