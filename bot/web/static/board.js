"use strict";
// The Lifeline web board: draws the snapshots the server pushes (server-sent events) with
// textContent only, so nothing a user typed can become markup. Read-only: it never writes.
(function () {
  const token = new URLSearchParams(window.location.search).get("t") || "";
  const query = "?t=" + encodeURIComponent(token);
  const SILENCE_MS = 40000; // the server pings every 15 s; this long without a word is a dead link
  let source = null;
  let watchdog = null;
  let retry = null;
  let shownAt = "";

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fill(parent, children) {
    parent.replaceChildren(...children);
  }

  function setLive(state, text) {
    document.body.dataset.live = state;
    $("connection").textContent = text;
  }

  function markStale(text) {
    if (document.body.dataset.live === "refused") return;
    const since = shownAt ? " — showing data from " + shownAt + ", not live" : "";
    setLive("stale", text + since);
  }

  function incidentLine(b) {
    const i = b.incident;
    if (!i) return "No incident";
    const flags = (i.drill ? " · DRILL" : "") + (i.open ? "" : " · CLOSED");
    return i.id + flags + " · " + i.title + " · severity " + i.severity +
      " · commander " + i.commander + " · period " + i.period + " (" + i.period_window + ")" +
      " · opened " + i.opened + (i.open ? " (" + (i.age === "just now" ? i.age : i.age + " ago") + ")"
        : " · closed after " + i.age);
  }

  function department(d) {
    const item = el("li", "dept state-" + d.state + (d.stale ? " stale" : ""));
    item.dataset.dept = d.id;
    const head = el("div", "dept-head");
    head.append(el("span", "dept-name", d.name), el("span", "badge", d.marker + " " + d.label));
    item.append(head);
    item.append(el("p", "note", d.state === "unknown" ? "No report this period" : d.note));
    item.append(el("p", "meta", [d.by, d.when].filter(Boolean).join(" · ")));
    item.setAttribute("aria-label", d.name + ": " + d.label + ", " + d.meaning +
      (d.note ? ". " + d.note : "") + (d.by ? ". " + d.by + " " + d.when : ""));
    return item;
  }

  function bar(percent) {
    const node = el("progress", "bar");
    node.max = 100;
    node.value = percent;
    node.setAttribute("aria-label", percent + "%");
    return node;
  }

  function broadcast(x) {
    const item = el("li", "bc prio-" + x.priority);
    const acked = x.percent === null ? x.acks + " acknowledged"
      : x.acks + " acknowledged · " + x.channels_acked + "/" + x.channels + " channels (" + x.percent + "%)";
    item.append(el("p", "bc-head", x.id + " · " + x.priority_label + " · " + x.when + " · " + x.sender));
    item.append(el("p", "bc-text", x.text));
    item.append(el("p", "bc-acks", acked), bar(x.percent || 0));
    return item;
  }

  function rollcall(r) {
    if (!r) return [el("p", "quiet", "No roll call: no incident is open.")];
    const parts = [el("p", "rc-line", r.reported + " of " + r.total + " departments reported (" + r.percent + "%)" +
      (r.asked ? " · roll call asked " + r.asked : " · no roll call asked this period"))];
    parts.push(bar(r.percent));
    if (r.missing.length) parts.push(el("p", "rc-missing", "Waiting for: " + r.missing.join(", ")));
    return parts;
  }

  function runbook(r) {
    const item = el("li", "rb");
    item.append(el("span", "rb-title", r.title), el("span", "rb-count", r.done + "/" + r.total + " steps (" + r.percent + "%)"));
    return item;
  }

  function logEntry(e) {
    const item = el("li", "entry kind-" + e.kind.replace(".", "-"));
    const who = el("span", "who", e.who + (e.department ? " · " + e.department : ""));
    who.dataset.kind = e.kind;
    item.append(el("span", "when", e.when), who, el("span", "what", e.text));
    return item;
  }

  function printRow(d) {
    const row = el("tr", "state-" + d.state);
    const note = d.note.length > 140 ? d.note.slice(0, 139) + "…" : d.note;
    row.append(el("td", "", d.name), el("td", "", d.marker + " " + d.meaning + (d.stale ? " (stale)" : "")),
      el("td", "", note), el("td", "", d.by), el("td", "", d.when));
    return row;
  }

  function render(b) {
    $("facility").textContent = b.facility;
    $("incident").textContent = incidentLine(b);
    const headline = $("headline");
    headline.hidden = !b.headline;
    headline.textContent = b.headline;
    $("summary").textContent = b.summary;
    fill($("departments"), b.departments.map(department));
    fill($("broadcasts"), b.broadcasts.length ? b.broadcasts.map(broadcast) : [el("li", "quiet", "No broadcasts in this incident.")]);
    fill($("rollcall"), rollcall(b.rollcall));
    fill($("runbooks"), b.runbooks.length ? b.runbooks.map(runbook) : [el("li", "quiet", "No runbook started.")]);
    fill($("log"), b.log.map(logEntry));
    $("updated").textContent = b.updated;
    $("stale-after").textContent = b.stale_after;
    $("print-meta").textContent = b.facility + " · " + incidentLine(b) + " · printed " + b.updated;
    fill($("print-rows"), b.departments.map(printRow));
    $("print-summary").textContent = "Summary: " + b.summary;
    shownAt = b.updated;
    document.title = "Lifeline board — " + b.facility;
  }

  function refuse(message) {
    if (source) source.close();
    clearTimeout(watchdog);
    clearTimeout(retry);
    setLive("refused", "not live: link refused");
    $("headline").hidden = false;
    $("headline").textContent = message;
    fill($("departments"), []);
  }

  function heard() {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => { markStale("reconnecting…"); connect(); }, SILENCE_MS);
  }

  // A closed stream is either a refused link (the snapshot says why) or a server that is away.
  function probe() {
    fetch("/board/snapshot" + query, { cache: "no-store" }).then((response) => {
      if (response.status === 403) return response.json().then((body) => refuse(body.error));
      schedule();
      return null;
    }).catch(schedule);
  }

  function schedule() {
    clearTimeout(retry);
    retry = setTimeout(connect, 2000);
  }

  function connect() {
    if (source) source.close();
    source = new EventSource("/board/events" + query);
    source.addEventListener("open", heard);
    source.addEventListener("message", heard);
    source.addEventListener("board", (event) => {
      heard();
      render(JSON.parse(event.data));
      setLive("live", "live");
    });
    source.addEventListener("trouble", () => { heard(); markStale("Lifeline cannot reach its database"); });
    source.addEventListener("closed", () => { source.close(); probe(); });
    source.addEventListener("error", () => {
      markStale("reconnecting…");
      if (source.readyState === EventSource.CLOSED) probe();
    });
  }

  connect();
})();
