// ProcClaw dashboard, a job's page: its facts follow the job's events, its output is
// followed live (stdout and stderr), its runs are drawn as bars, and its health checks
// are listed as they come.
"use strict";

(() => {
  const id = document.body.dataset.job;
  const facts = document.getElementById("job-facts");
  const log = document.getElementById("log");
  const MAX_LOG_LINES = 2000;
  const MAX_RUNS = 60;
  const RUN_ENDS = new Set(["exited", "completed", "failed", "stopped", "backoff"]);
  const path = `/api/v1/jobs/${encodeURIComponent(id)}`;

  function cell(column) {
    return facts.querySelector(`[data-col="${column}"]`);
  }
  function setState(state, paused) {
    facts.dataset.state = state;
    if (paused !== undefined) facts.dataset.paused = paused ? "yes" : "";
    document.querySelector("#job-head .actions").dataset.paused = facts.dataset.paused;
    const badge = PC.badge("state", state);
    if (facts.dataset.paused === "yes") badge.textContent += " (paused)";
    badge.dataset.col = "state";
    cell("state").replaceWith(badge);
  }
  function setHealth(health) {
    const badge = PC.badge("health", health);
    badge.dataset.col = "health";
    cell("health").replaceWith(badge);
  }
  async function refresh() {
    const job = await PC.api("GET", path);
    setState(job.state, job.paused);
    setHealth(job.health);
    cell("pid").textContent = job.pid || "-";
    cell("restarts").textContent = job.restarts;
    PC.setUptime(cell("uptime"), job.uptime);
    const next = document.getElementById("next-runs");
    if ((job.next_runs || []).length) {
      next.replaceChildren(...job.next_runs.map((run) => {
        const item = document.createElement("li");
        item.append(PC.timeElement(run, job.timezone));
        return item;
      }));
    }
  }

  // ---- the output, followed ---------------------------------------------------------
  function addLine(stream, line) {
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const span = document.createElement("span");
    if (stream === "stderr") span.className = "stderr";
    span.textContent = line + "\n";
    log.append(span);
    while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
    if (atEnd) log.scrollTop = log.scrollHeight;
  }
  PC.follow(`${path}/logs/stream?lines=200`, (entry) => addLine(entry.stream, entry.line), (again) => {
    // Each connection sends its backlog again: start from it, not on top of it.
    if (again) log.replaceChildren();
  });

  // ---- runs: one bar each, its height the duration, its colour the result -----------
  async function drawRuns() {
    const { runs } = await PC.api("GET", `${path}/runs?limit=${MAX_RUNS}`);
    const chart = document.getElementById("runs");
    const longest = Math.max(...runs.map((run) => run.duration || 0), 0.001);
    chart.replaceChildren(...runs.slice().reverse().map((run) => {
      const bar = document.createElement("div");
      const known = ["completed", "failed", "stopped"].includes(run.result);
      bar.className = `bar ${known ? run.result : "other"}`;
      bar.style.height = `${Math.max(2, (100 * (run.duration || 0)) / longest)}%`;
      const started = new Date(run.started_at * 1000);
      const exit = run.signal ? `signal ${run.signal}` : `exit ${run.exit_code}`;
      bar.title = `${started.toLocaleString()}: ${run.result}, ${PC.duration(run.duration)}`
        + ` (${(run.duration || 0).toFixed(2)} s), ${exit}, started by ${run.cause}`;
      bar.dataset.result = run.result;
      return bar;
    }));
    chart.setAttribute("aria-label", runs.length
      ? `${runs.length} runs, the latest on the right; longest ${PC.duration(longest)}`
      : "No runs yet");
  }

  // ---- health: each check's outcome as it comes -------------------------------------
  function addHealth(event) {
    const list = document.getElementById("health-history");
    list.querySelectorAll(".empty").forEach((empty) => empty.remove());
    const item = document.createElement("li");
    const date = new Date(event.ts * 1000);
    const time = document.createElement("time");
    time.setAttribute("datetime", date.toISOString());
    time.textContent = PC.clock(date);
    const healthy = event.data.healthy;
    item.className = healthy ? "healthy" : "unhealthy";
    item.append(time, (healthy ? "healthy" : "unhealthy") + (event.data.reason ? `: ${event.data.reason}` : ""));
    list.prepend(item);
    while (list.children.length > 100) list.lastElementChild.remove();
  }

  function onEvent(event) {
    const kind = event.topic.split(".").pop();
    if (event.data.state && event.topic.startsWith("job.")) setState(event.data.state);
    if (kind === "paused" || kind === "resumed") setState(facts.dataset.state, kind === "paused");
    if (kind === "health") {
      setHealth(event.data.healthy ? "healthy" : "unhealthy");
      addHealth(event);
    }
    if (RUN_ENDS.has(kind)) drawRuns().catch(() => null);
    if (kind !== "heartbeat") refreshSoon();
  }
  let timer = null;
  function refreshSoon() {
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch(() => null), 150);
  }

  // Asked again at each connection, the first included: see jobs.js.
  PC.follow(`/api/v1/events?names=false&job=${encodeURIComponent(id)}`, onEvent, refreshSoon);
  drawRuns().catch(() => null);
})();
