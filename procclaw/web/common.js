// ProcClaw dashboard: what both pages use. Calls the API with the session cookie (sent by
// the browser) and, on a change, the page's CSRF token; follows Server-Sent Events with a
// reconnect; formats times in the browser's zone; runs the job actions.
"use strict";

const PC = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

  async function api(method, path) {
    const headers = { Accept: "application/json" };
    if (UNSAFE.has(method) && csrf) headers["X-CSRF-Token"] = csrf;
    const response = await fetch(path, { method, headers, credentials: "same-origin" });
    if (response.status === 401) {
      location.assign("/login");
      throw new Error("logged out");
    }
    let body = null;
    try { body = await response.json(); } catch (_) { /* no JSON body */ }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : response.statusText;
      throw new Error(message || `HTTP ${response.status}`);
    }
    return body;
  }

  // ---- formatting: what procclaw/cli/render.py does for the terminal ----------------
  function duration(seconds) {
    if (seconds === null || seconds === undefined || seconds === "") return "-";
    let total = Math.floor(Number(seconds));
    const parts = [[Math.floor(total / 86400), "d"]];
    total %= 86400;
    parts.push([Math.floor(total / 3600), "h"]);
    total %= 3600;
    parts.push([Math.floor(total / 60), "m"], [total % 60, "s"]);
    while (parts.length > 1 && parts[0][0] === 0) parts.shift();
    return parts.slice(0, 2).map(([value, unit]) => `${value}${unit}`).join(" ");
  }
  function memory(count) {
    if (count === null || count === undefined) return "-";
    for (const [unit, scale] of [["G", 2 ** 30], ["M", 2 ** 20], ["K", 2 ** 10]]) {
      if (count >= scale) {
        const value = count / scale;
        return (value === Math.floor(value) || value >= 100 ? value.toFixed(0) : value.toFixed(1)) + unit;
      }
    }
    return `${count}B`;
  }
  function cpu(percent) {
    return percent === null || percent === undefined ? "-" : `${percent.toFixed(1)}%`;
  }
  const localFormat = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
  function clock(date) {
    return date.toLocaleTimeString(undefined, { hour12: false });
  }
  // A <time datetime> shown in the browser's zone; the job's own zone, when it has one
  // and it differs, beside it (its full name on hover).
  function showTime(element) {
    const date = new Date(element.getAttribute("datetime"));
    if (isNaN(date)) return;
    element.textContent = localFormat.format(date);
    element.title = date.toString();
    const zone = element.dataset.zone;
    const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zone !== here) {
      try {
        const there = new Intl.DateTimeFormat(undefined, {
          timeZone: zone, hour: "2-digit", minute: "2-digit", timeZoneName: "short",
        }).format(date);
        const small = document.createElement("small");
        small.className = "zone";
        small.textContent = ` ${there}`;
        element.append(small);
        element.title += ` (${there} in ${zone})`;
      } catch (_) { /* a zone this browser does not know */ }
    }
  }
  function timeElement(iso, zone) {
    const element = document.createElement("time");
    element.setAttribute("datetime", iso);
    element.dataset.zone = zone || "";
    element.textContent = iso;
    showTime(element);
    return element;
  }
  function badge(kind, value) {
    const span = document.createElement("span");
    span.className = `badge ${kind}-${value || "-"}`;
    span.textContent = value || "-";
    return span;
  }

  // ---- uptimes tick in the page; the server's figure resets them -------------------
  const uptimes = new Map(); // element -> [seconds, when read]
  function setUptime(element, seconds) {
    if (seconds === null || seconds === undefined || seconds === "") {
      uptimes.delete(element);
      element.textContent = "-";
    } else {
      uptimes.set(element, [Number(seconds), performance.now()]);
      element.textContent = duration(seconds);
    }
  }
  setInterval(() => {
    for (const [element, [seconds, at]] of uptimes) {
      if (!element.isConnected) uptimes.delete(element);
      else element.textContent = duration(seconds + (performance.now() - at) / 1000);
    }
  }, 1000);

  // ---- the event stream, with a banner while it is lost ----------------------------
  const streams = []; // one entry per stream followed: is it open now?
  // Every stream the page follows is open: what happens now reaches the page.
  const live = () => streams.length > 0 && streams.every((stream) => stream.open);
  function follow(url, onEvent, onConnected) {
    const banner = document.getElementById("connection");
    const stream = { open: false };
    streams.push(stream);
    let source = null;
    let delay = 1000;
    let lost = false;
    function open() {
      source = new EventSource(url);
      source.onopen = () => {
        stream.open = true;
        delay = 1000;
        banner.hidden = true;
        if (lost) document.body.classList.remove("offline");
        const again = lost;
        lost = false;
        onConnected(again);
      };
      source.onmessage = (message) => onEvent(JSON.parse(message.data));
      source.onerror = () => {
        stream.open = false;
        lost = true;
        banner.hidden = false;
        document.body.classList.add("offline");
        if (source.readyState === EventSource.CLOSED) {
          // Refused (a 401, a 503): the browser gives up, so try again ourselves. A
          // session that ended (a restarted gateway) leads to the login form (api()).
          source.close();
          setTimeout(() => api("GET", "/api/v1/daemon").catch(() => null).finally(open), delay);
          delay = Math.min(delay * 2, 10000);
        }
      };
    }
    open();
    return () => source && source.close();
  }

  // ---- actions: the row's (or page's) buttons, outcome shown beside them -----------
  const CONFIRM = { stop: "Stop", restart: "Restart" };
  function confirmed(action, job) {
    const dialog = document.getElementById("confirm");
    if (!CONFIRM[action]) return Promise.resolve(true);
    document.getElementById("confirm-text").textContent = `${CONFIRM[action]} ${job}?`;
    document.getElementById("confirm-ok").textContent = CONFIRM[action];
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      document.getElementById("confirm-ok").focus();
    });
  }
  document.addEventListener("click", async (click) => {
    const button = click.target.closest("button[data-action]");
    if (!button) return;
    const holder = button.closest("[data-id]");
    const job = holder.dataset.id;
    const action = button.dataset.action;
    const outcome = holder.querySelector(".outcome");
    if (!(await confirmed(action, job))) {
      button.focus();
      return;
    }
    button.disabled = true;
    outcome.className = "outcome";
    outcome.textContent = `${action}…`;
    try {
      const answer = await api("POST", `/api/v1/jobs/${encodeURIComponent(job)}/${action}`);
      outcome.className = "outcome done";
      // The daemon took it; the row follows its events to where it gets.
      outcome.textContent = answer.note || `${action}: sent`;
      outcome.title = `${action}: the job was ${answer.state} when the daemon took it`;
    } catch (error) {
      outcome.className = "outcome error";
      outcome.textContent = error.message;
    } finally {
      button.disabled = false;
      button.focus();
    }
  });

  document.getElementById("logout").addEventListener("click", () => {
    api("POST", "/logout").finally(() => location.assign("/login"));
  });
  document.querySelectorAll("time[datetime]").forEach(showTime);
  document.querySelectorAll("[data-uptime]").forEach((e) => setUptime(e, e.dataset.uptime));

  return { api, duration, memory, cpu, clock, showTime, timeElement, badge, setUptime, follow, live };
})();
