// ProcClaw dashboard, the jobs page: the table follows the event stream (a state change
// is patched into its row from the event itself, then the row's other facts are asked
// for), the events feed, the actors, and the filters.
"use strict";

(() => {
  const rows = document.getElementById("job-rows");
  const feed = document.getElementById("events");
  const search = document.getElementById("search");
  const stateFilter = document.getElementById("state-filter");
  const tagFilter = document.getElementById("tag-filter");
  const MAX_EVENTS = 200;
  const STATE_EVENTS = new Set([
    "starting", "running", "exited", "backoff", "failed", "stopping", "stopped",
    "completed", "waiting",
  ]);

  // ---- filters -------------------------------------------------------------------
  function applyFilters() {
    const text = search.value.trim().toLowerCase();
    const state = stateFilter.value;
    const tag = tagFilter.value;
    let shown = 0;
    for (const row of rows.rows) {
      const visible = (!text || row.dataset.name.includes(text))
        && (!state || (state === "paused" ? row.dataset.paused === "yes" : row.dataset.state === state))
        && (!tag || row.dataset.tags.split(" ").includes(tag));
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    const total = rows.rows.length;
    document.getElementById("job-count").textContent = shown === total ? total : `${shown} of ${total}`;
  }
  search.addEventListener("input", applyFilters);
  stateFilter.addEventListener("change", applyFilters);
  tagFilter.addEventListener("change", applyFilters);
  document.getElementById("filters").addEventListener("submit", (e) => e.preventDefault());

  // ---- rows: the same shape as dashboard_html.job_row -----------------------------
  function cell(row, column) {
    return row.querySelector(`[data-col="${column}"]`);
  }
  const RESTING = new Set(["stopped", "completed", "failed"]);
  function setState(row, state, paused) {
    row.dataset.state = state;
    if (RESTING.has(state)) {
      // Nothing runs: no health, CPU, memory or uptime to show until the next answer
      // says more (the API gives a job at rest no health either).
      cell(row, "health").replaceChildren(PC.badge("health", null));
      cell(row, "cpu").textContent = "-";
      cell(row, "memory").textContent = "-";
      PC.setUptime(cell(row, "uptime"), null);
    }
    if (paused !== undefined) row.dataset.paused = paused ? "yes" : "";
    const target = cell(row, "state");
    target.replaceChildren(PC.badge("state", state));
    if (row.dataset.paused === "yes") {
      const mark = document.createElement("span");
      mark.className = "badge paused";
      mark.textContent = "paused";
      target.append(" ", mark);
    }
  }
  function fill(row, job) {
    const name = job.name || job.id;
    row.dataset.tags = job.tags.join(" ");
    row.dataset.name = `${name.toLowerCase()} ${job.id.toLowerCase()}`;
    setState(row, job.state, job.paused);
    cell(row, "health").replaceChildren(PC.badge("health", job.health));
    cell(row, "cpu").textContent = PC.cpu(job.cpu);
    cell(row, "memory").textContent = PC.memory(job.memory);
    PC.setUptime(cell(row, "uptime"), job.uptime);
    cell(row, "restarts").textContent = job.restarts;
    const next = cell(row, "next");
    const runs = job.next_runs || [];
    next.replaceChildren(runs.length ? PC.timeElement(runs[0], job.timezone) : "-");
    cell(row, "tags").replaceChildren(...job.tags.map((tag) => {
      const span = document.createElement("span");
      span.className = "tag";
      span.textContent = tag;
      return span;
    }));
  }
  function newRow(job) {
    const row = document.createElement("tr");
    row.id = `job-${job.id}`;
    row.dataset.id = job.id;
    const link = document.createElement("a");
    link.href = `/jobs/${encodeURIComponent(job.id)}`;
    link.textContent = job.name || job.id;
    const head = document.createElement("th");
    head.scope = "row";
    head.dataset.col = "name";
    head.append(link);
    row.append(head);
    for (const column of ["state", "health", "cpu", "memory", "uptime", "restarts", "next", "tags"]) {
      const td = document.createElement("td");
      td.dataset.col = column;
      if (["cpu", "memory", "uptime", "restarts"].includes(column)) td.className = "num";
      row.append(td);
    }
    // The buttons as the server renders them (dashboard_html.action_buttons).
    const actions = document.createElement("td");
    actions.dataset.col = "actions";
    actions.className = "actions";
    actions.dataset.id = job.id;
    addButtons(actions);
    row.append(actions);
    return row;
  }

  function addButtons(cell) {
    cell.append(document.getElementById("action-buttons").content.cloneNode(true));
  }
  rows.querySelectorAll("td.actions").forEach(addButtons);

  // ---- the whole list, asked again after events (debounced) and on reconnect ------
  let refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150);
  }
  async function refresh() {
    const { jobs } = await PC.api("GET", "/api/v1/jobs");
    const seen = new Set();
    let previous = null;
    for (const job of jobs) {
      let row = document.getElementById(`job-${job.id}`);
      if (!row) row = newRow(job);
      fill(row, job);
      // In the config's order: a job added by reload takes its place.
      if (previous ? previous.nextElementSibling !== row : rows.firstElementChild !== row) {
        if (previous) previous.after(row); else rows.prepend(row);
      }
      previous = row;
      seen.add(row);
    }
    for (const row of [...rows.rows]) if (!seen.has(row)) row.remove();
    const tags = [...new Set(jobs.flatMap((job) => job.tags))].sort();
    const chosen = tagFilter.value;
    tagFilter.replaceChildren(new Option("any", ""), ...tags.map((tag) => new Option(tag, tag)));
    tagFilter.value = tags.includes(chosen) ? chosen : "";
    applyFilters();
  }
  async function refreshActors() {
    const { actors } = await PC.api("GET", "/api/v1/daemon");
    document.getElementById("actor-rows").replaceChildren(...actors.map((actor) => {
      const row = document.createElement("tr");
      row.dataset.actor = actor.name;
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = actor.name;
      const state = document.createElement("td");
      const badge = PC.badge("actor", actor.state);
      // Where the gateway listens, what went wrong, or what starts an actor that is off.
      const note = actor.problem || actor.listening || actor.note;
      if (note) badge.title = note;
      state.append(badge);
      row.append(name, state);
      for (const value of [actor.pid || "-", actor.restarts || 0]) {
        const td = document.createElement("td");
        td.className = "num";
        td.textContent = value;
        row.append(td);
      }
      return row;
    }));
  }

  // ---- the events feed ------------------------------------------------------------
  function describe(event) {
    const data = event.data || {};
    const parts = [];
    if (data.pid) parts.push(`pid ${data.pid}`);
    if (data.last_exit && event.topic.endsWith(".exited")) parts.push(data.last_exit);
    if (data.reason) parts.push(data.reason);
    if (data.healthy !== undefined) parts.push(data.healthy ? "healthy" : "unhealthy");
    return parts.join(", ");
  }
  function addToFeed(event) {
    const empty = feed.querySelector(".empty");
    if (empty) empty.remove();
    const item = document.createElement("li");
    const kind = event.topic.split(".").pop();
    item.className = event.data && event.data.healthy === false ? "unhealthy" : kind;
    const time = document.createElement("time");
    const date = new Date(event.ts * 1000);
    time.setAttribute("datetime", date.toISOString());
    time.textContent = PC.clock(date);
    const detail = describe(event);
    item.append(time, event.topic + (detail ? ` (${detail})` : ""));
    feed.prepend(item);
    while (feed.children.length > MAX_EVENTS) feed.lastElementChild.remove();
  }

  function onEvent(event) {
    addToFeed(event);
    const [scope, ...rest] = event.topic.split(".");
    const kind = rest.pop();
    const id = rest.join(".");
    if (scope === "job" || scope === "schedule") {
      const row = document.getElementById(`job-${id}`);
      if (row && STATE_EVENTS.has(kind) && event.data.state) setState(row, event.data.state);
      if (row && (kind === "paused" || kind === "resumed")) setState(row, row.dataset.state, kind === "paused");
      if (row && kind === "health") {
        cell(row, "health").replaceChildren(PC.badge("health", event.data.healthy ? "healthy" : "unhealthy"));
      }
      if (!row || kind !== "heartbeat") refreshSoon();
    } else if (scope === "actor") {
      refreshActors().catch(() => null);
    } else {
      refreshSoon(); // a reload: jobs added or gone
    }
  }

  // Asked again at each connection, the first included: what changed between the
  // page's rendering and the stream's opening came before the stream.
  PC.follow("/api/v1/events?names=false", onEvent, () => {
    refresh().catch(() => null);
    refreshActors().catch(() => null);
  });
  applyFilters();
})();
