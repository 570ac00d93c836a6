// Deme police console: live alert list, operator actions, offline position sketch, wearables' liveness.
// Every text that comes from the hub is put in the page with textContent (never innerHTML): wearer names, notes
// and units can contain anything.
"use strict";

(function () {
  // Which event codes are urgent, low priority (someone may need to visit the wearer, nobody is in danger yet) or
  // no incident at all (heartbeats feed the device list, never the alert list): the hub's one table
  // (drivers/alert.py EVENT_CLASSES), read from /api/meta before anything is shown.
  let urgentEvents = new Set();
  let lowPriorityEvents = new Set();
  let statusEvents = new Set();
  let stateRank = {};                // alert state -> its place in the order states move forward (/api/meta)
  let allowedFrom = {};              // action -> the states it is allowed from (/api/meta)
  let deviceRank = {};               // device status -> its place in the device list, worst first (/api/meta)
  const SVG_NS = "http://www.w3.org/2000/svg";
  const SKETCH = 180;               // px, square
  const SKETCH_MAX_M = 10000;       // other alerts further than this are counted, not drawn
  const LATE_S = 60;                // an alert that took longer than this to arrive shows when it was sent
  const NICE_M = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];

  const params = new URLSearchParams(window.location.search);
  const lang = params.get("lang") === "en" ? "en" : "fr";
  const TEXT = window.DEME_I18N[lang];

  const alerts = new Map();          // id -> alert as the API returns it
  const devices = new Map();         // device id -> status as /api/devices returns it
  const forms = new Map();           // id -> {kind, value}: a dispatch/resolve form the operator has open
  let clockOffset = 0;               // hub time - browser time, seconds
  let heartbeatS = 15;
  let lastSeen = Date.now();
  let source = null;
  let reconnectTimer = null;
  let noticeTimer = null;
  let loaded = false;

  // -- small helpers -----------------------------------------------------------------------------------------
  function t(key, vars) {
    let text = TEXT[key];
    if (text === undefined) text = key;
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (m, name) => (vars[name] === undefined || vars[name] === null ? "" : String(vars[name])));
    }
    return text;
  }

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") el.className = value;
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function svg(tag, attrs, text) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, String(value));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function now() {
    return Date.now() / 1000 + clockOffset;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return t("dur_s", { s: seconds });
    if (seconds < 3600) return t("dur_min_s", { m: Math.floor(seconds / 60), s: seconds % 60 });
    if (seconds < 86400) {
      const m = Math.floor(seconds / 60) % 60;
      return t("dur_h_min", { h: Math.floor(seconds / 3600), m: m < 10 ? "0" + m : m });
    }
    return t("dur_d_h", { d: Math.floor(seconds / 86400), h: Math.floor(seconds / 3600) % 24 });
  }

  function ago(epoch) {
    return t("ago", { d: duration(now() - epoch) });
  }

  function clock(epoch) {
    if (!epoch) return "";
    // Times are the hub's records, shown as they are; only ages use the offset to the hub's clock.
    const d = new Date(epoch * 1000);
    const pad = (n) => (n < 10 ? "0" + n : "" + n);
    const time = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    const today = new Date();
    if (d.toDateString() === today.toDateString()) return time;
    return pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + " " + time;
  }

  function hasFix(a) {
    return typeof a.lat === "number" && typeof a.lon === "number";
  }

  function eventName(code) {
    return t("event_" + code) !== "event_" + code ? t("event_" + code) : String(code);
  }

  function categoryName(code) {
    return t("cat_" + code) !== "cat_" + code ? t("cat_" + code) : String(code);
  }

  function operatorName() {
    return document.getElementById("operator").value.trim();
  }

  function notice(text, kind) {
    const el = document.getElementById("notice");
    el.textContent = text;
    el.className = "notice " + (kind || "error");
    el.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { el.hidden = true; }, 12000);
  }

  // -- ordering: unhandled first, urgent before information, newest first ----------------------------------
  function sortKey(a) {
    return [stateRank[a.state] ?? 9, urgentEvents.has(a.event) ? 0 : lowPriorityEvents.has(a.event) ? 2 : 1, -a.received_at, -a.id];
  }

  function compare(a, b) {
    const ka = sortKey(a), kb = sortKey(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return 0;
  }

  // -- rendering ---------------------------------------------------------------------------------------------
  function render() {
    // Keep what the operator is typing (and where) across a re-render caused by another alert.
    const active = document.activeElement;
    let focus = null;
    if (active && active.dataset && active.dataset.role === "form-input") {
      focus = { id: active.dataset.id, start: active.selectionStart, end: active.selectionEnd };
    }
    const list = Array.from(alerts.values()).sort(compare);
    const main = document.getElementById("alerts");
    const cards = list.map((a) => card(a, list));
    main.replaceChildren(...cards);
    document.getElementById("empty").hidden = !loaded || list.some((a) => a.state !== "resolved");
    if (focus) {
      const input = main.querySelector('[data-role="form-input"][data-id="' + CSS.escape(focus.id) + '"]');
      if (input) {
        input.focus();
        try { input.setSelectionRange(focus.start, focus.end); } catch (e) { /* not a text field */ }
      }
    }
    updateCounters(list);
  }

  function updateCounters(list) {
    const unacked = list.filter((a) => a.state === "new");
    const urgent = unacked.filter((a) => urgentEvents.has(a.event));
    const duress = urgent.filter((a) => a.event === "DUR");
    const counter = document.getElementById("counter");
    counter.textContent = String(unacked.length);
    counter.className = "counter" + (unacked.length ? "" : " zero");
    counter.title = t("counter_title", { n: unacked.length });
    document.title = (unacked.length ? "(" + unacked.length + ") " : "") + t("app_title");
    const unanswered = unacked.filter((a) => a.escalation && a.escalation.state === "unanswered");
    const unansweredBanner = document.getElementById("unanswered-banner");
    unansweredBanner.hidden = !unanswered.length;
    if (unanswered.length) {
      unansweredBanner.textContent = t("banner_unanswered", { codes: unanswered.map((a) => a.code || "#" + a.id).join(", ") });
    }
    const banner = document.getElementById("urgent-banner");
    if (urgent.length) {
      banner.textContent = t(urgent.length === 1 ? "banner_one" : "banner_many", { n: urgent.length }) +
        (duress.length ? " " + t("banner_duress", { n: duress.length }) : "");
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  function card(a, list) {
    const urgent = urgentEvents.has(a.event);
    const classes = ["alert", "state-" + a.state, urgent ? "urgent" : "info", "event-" + a.event];
    if (lowPriorityEvents.has(a.event)) classes.push("low-priority");
    const el = h("article", { class: classes.join(" "), id: "alert-" + a.id, "data-id": a.id, "data-state": a.state });
    el.appendChild(h("header", { class: "head" },
      h("span", { class: "event" }, eventName(a.event)),
      h("span", { class: "category" }, categoryName(a.category)),
      h("span", { class: "badge badge-" + a.state }, t("state_" + a.state)),
      lowPriorityEvents.has(a.event) ? h("span", { class: "badge badge-low" }, t("low_priority")) : null,
      h("span", { class: "age", "data-t": a.received_at }, ago(a.received_at)),
    ));
    if (a.event === "DUR") {
      el.appendChild(h("div", { class: "duress" },
        h("strong", {}, t("duress_title")), " ", t("duress_text")));
    }
    const body = h("div", { class: "body" });
    body.appendChild(details(a));
    body.appendChild(sketch(a, list));
    body.appendChild(timeline(a));
    el.appendChild(body);
    return el;
  }

  function details(a) {
    const who = h("div", { class: "who" },
      h("span", { class: "wearer" }, a.wearer !== null && a.wearer !== undefined ? a.wearer : t("unknown_wearer")),
      " ", h("span", { class: "device" }, t("device", { id: a.device_id })));
    const rows = h("dl", { class: "facts" });
    const row = (label, ...value) => { rows.appendChild(h("dt", {}, label)); rows.appendChild(h("dd", {}, ...value)); };
    row(t("received"), clock(a.received_at), " ", t("via_" + a.via) !== "via_" + a.via ? t("via_" + a.via) : a.via,
        a.sender ? h("span", { class: "sender" }, " (" + a.sender + ")") : null);
    // An SMS can sit in the network for minutes: say when the wearable sent it if that was noticeably earlier.
    const late = a.device_time > 1e9 ? a.received_at - a.device_time : 0;
    if (late >= LATE_S) {
      row(t("sent"), clock(a.device_time), " ",
        h("span", { class: "late" }, t("late", { d: duration(late) })));
    }
    if (hasFix(a)) {
      const osm = "https://www.openstreetmap.org/?mlat=" + a.lat.toFixed(5) + "&mlon=" + a.lon.toFixed(5) +
        "#map=17/" + a.lat.toFixed(5) + "/" + a.lon.toFixed(5);
      row(t("position"),
        h("span", { class: "coords" }, a.lat.toFixed(5) + ", " + a.lon.toFixed(5)),
        " ", h("span", { class: "acc" }, t("accuracy", { m: a.acc_m ?? "?" })),
        " ", h("span", { class: "fix-age" }, t("fix_age", { d: duration(a.fix_age_s || 0) })),
        " ", h("a", { class: "osm", href: osm, target: "_blank", rel: "noopener noreferrer" }, t("osm_link")));
    } else {
      row(t("position"), h("span", { class: "no-fix" }, t("no_fix")), " ",
        a.cell ? h("span", { class: "cell" }, t("cell", a.cell)) : t("no_cell"));
    }
    if (a.cell && hasFix(a)) row(t("cell_label"), h("span", { class: "cell" }, t("cell", a.cell)));
    if (a.battery !== null && a.battery !== undefined) {
      row(t("battery"), h("span", { class: a.battery < 20 ? "battery low" : "battery" }, a.battery + " %"));
    }
    const handled = [];
    if (a.acknowledged_at) handled.push(h("div", {}, t("acked_by", { who: a.acknowledged_by, at: clock(a.acknowledged_at) })));
    if (a.dispatched_at) handled.push(h("div", {}, t("dispatched_by", { unit: a.unit, who: a.dispatched_by, at: clock(a.dispatched_at) })));
    if (a.resolved_at) handled.push(h("div", {}, t("resolved_by", { who: a.resolved_by, at: clock(a.resolved_at) })));
    if (a.note) handled.push(h("div", { class: "note" }, t("note", { note: a.note })));
    return h("div", { class: "details" }, who, rows, told(a),
      handled.length ? h("div", { class: "handled" }, handled) : null, actionsFor(a));
  }

  // Whether the wearable has been told, from the ack messages in the outbox: the whole point of acknowledging.
  function told(a) {
    if (a.wearer === null || a.wearer === undefined) return h("div", { class: "told bad" }, t("told_unknown_device"));
    const acks = (a.outbox || []).filter((m) => m.kind === "ack" && m.status && m.status !== "RCV");
    if (!acks.length) {
      return h("div", { class: "told " + (a.state === "new" ? "bad" : "wait") }, t("told_not_yet"));
    }
    const last = acks[acks.length - 1];
    const status = t("status_" + last.status);
    if (last.state === "sent") return h("div", { class: "told good" }, t("told_sent", { status, at: clock(last.sent_at) }));
    if (last.state === "failed") return h("div", { class: "told bad" }, t("told_failed", { status, error: last.last_error || "" }));
    return h("div", { class: "told wait" }, t("told_pending", { status, n: last.attempts || 0 }));
  }

  function actionsFor(a) {
    const box = h("div", { class: "actions" });
    const can = {};
    for (const [action, states] of Object.entries(allowedFrom)) can[action] = states.includes(a.state);
    box.appendChild(h("button", {
      type: "button", class: "act acknowledge", "data-action": "acknowledge", disabled: !can.acknowledge,
      onclick: () => act(a.id, "acknowledge", {}),
    }, t("btn_acknowledge")));
    box.appendChild(h("button", {
      type: "button", class: "act dispatch", "data-action": "dispatch", disabled: !can.dispatch,
      onclick: () => openForm(a.id, "dispatch"),
    }, t("btn_dispatch")));
    box.appendChild(h("button", {
      type: "button", class: "act resolve", "data-action": "resolve", disabled: !can.resolve,
      onclick: () => openForm(a.id, "resolve"),
    }, t("btn_resolve")));
    const open = forms.get(String(a.id));
    if (open && can[open.kind]) box.appendChild(form(a, open));
    return box;
  }

  function form(a, open) {
    const input = h(open.kind === "resolve" ? "textarea" : "input", {
      class: "form-input", "data-role": "form-input", "data-id": a.id, "data-kind": open.kind,
      maxlength: open.kind === "resolve" ? 500 : 60, rows: open.kind === "resolve" ? 2 : null,
      placeholder: t(open.kind === "resolve" ? "note_placeholder" : "unit_placeholder"),
      "aria-label": t(open.kind === "resolve" ? "note_label" : "unit_label"),
    });
    input.value = open.value || "";
    document.addEventListener("click", askNotifications, { once: true });
    input.addEventListener("input", () => { open.value = input.value; });
    const submit = (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (!value) {
        notice(t(open.kind === "resolve" ? "need_note" : "need_unit"));
        input.focus();
        return;
      }
      act(a.id, open.kind, open.kind === "resolve" ? { note: value } : { unit: value });
    };
    return h("form", { class: "action-form", "data-kind": open.kind, onsubmit: submit },
      h("label", {}, t(open.kind === "resolve" ? "note_label" : "unit_label"), input),
      h("button", { type: "submit", class: "confirm", "data-action": "confirm-" + open.kind },
        t(open.kind === "resolve" ? "confirm_resolve" : "confirm_dispatch")),
      h("button", { type: "button", class: "cancel", onclick: () => { forms.delete(String(a.id)); render(); } }, t("cancel")));
  }

  function openForm(id, kind) {
    forms.set(String(id), { kind, value: "" });
    render();
    const input = document.querySelector('[data-role="form-input"][data-id="' + CSS.escape(String(id)) + '"]');
    if (input) input.focus();
  }

  // -- offline position sketch: the alert's point, its accuracy circle and the other active alerts, to scale --
  function sketch(a, list) {
    const box = svg("svg", { class: "sketch", viewBox: "0 0 " + SKETCH + " " + SKETCH, width: SKETCH, height: SKETCH,
      role: "img" });
    box.appendChild(svg("title", {}, t("sketch_title")));
    box.appendChild(svg("rect", { x: 0, y: 0, width: SKETCH, height: SKETCH, class: "sk-bg" }));
    const c = SKETCH / 2;
    if (!hasFix(a)) {
      box.appendChild(svg("text", { x: c, y: c, class: "sk-none", "text-anchor": "middle" }, t("no_fix")));
      return box;
    }
    const cosLat = Math.cos(a.lat * Math.PI / 180);
    const offset = (o) => ({
      x: (o.lon - a.lon) * 111320 * cosLat,
      y: (o.lat - a.lat) * 110540,
    });
    const others = [];
    let far = 0;
    for (const o of list) {
      if (o.id === a.id || o.state === "resolved" || !hasFix(o)) continue;
      const d = offset(o);
      const dist = Math.hypot(d.x, d.y);
      if (dist > SKETCH_MAX_M) { far += 1; continue; }
      others.push({ o, d, dist });
    }
    const acc = Math.max(0, a.acc_m || 0);
    const reach = Math.max(acc * 1.25, 40, ...others.map((x) => x.dist * 1.15));
    const scale = (c - 14) / reach;  // px per metre
    box.appendChild(svg("line", { x1: c, y1: 6, x2: c, y2: SKETCH - 6, class: "sk-grid" }));
    box.appendChild(svg("line", { x1: 6, y1: c, x2: SKETCH - 6, y2: c, class: "sk-grid" }));
    for (const { o, d } of others) {
      const x = c + d.x * scale, y = c - d.y * scale;
      box.appendChild(svg("circle", { cx: x, cy: y, r: 4, class: "sk-other" + (urgentEvents.has(o.event) ? " urgent" : "") }));
      box.appendChild(svg("text", { x: x + 6, y: y + 4, class: "sk-label" }, o.device_id));
    }
    box.appendChild(svg("circle", { cx: c, cy: c, r: Math.max(acc * scale, 2), class: "sk-acc" }));
    box.appendChild(svg("circle", { cx: c, cy: c, r: 4.5, class: "sk-point" }));
    // Scale bar: the largest round distance that fits in a third of the sketch.
    let bar = NICE_M[0];
    for (const m of NICE_M) if (m * scale <= SKETCH / 3) bar = m;
    const bx = 8, by = SKETCH - 10;
    box.appendChild(svg("line", { x1: bx, y1: by, x2: bx + bar * scale, y2: by, class: "sk-bar" }));
    box.appendChild(svg("text", { x: bx, y: by - 4, class: "sk-label" }, bar >= 1000 ? bar / 1000 + " km" : bar + " m"));
    box.appendChild(svg("text", { x: SKETCH - 10, y: 16, class: "sk-north", "text-anchor": "middle" }, "N↑"));
    if (far) box.appendChild(svg("text", { x: SKETCH - 6, y: SKETCH - 6, class: "sk-label", "text-anchor": "end" }, t("sketch_far", { n: far })));
    return box;
  }

  // -- timeline: every hop of the alert and of the messages sent for it -------------------------------------
  function timeline(a) {
    const items = [];
    for (const hop of a.hops || []) {
      if (hop.hop === "sms.sent") continue;  // the outbox lines below say it, with what was sent
      items.push({ t: hop.t, text: hopText(hop), kind: hop.hop });
    }
    for (const m of a.outbox || []) {
      if (m.state === "superseded") continue;  // a newer status to the wearable replaced it before it was sent
      const what = m.kind === "ack" ? t("msg_ack", { status: t("status_" + m.status) }) : t("msg_other", { kind: m.kind, to: m.recipient });
      items.push({ t: m.created_at, text: t("msg_queued", { what }), kind: "outbox.queued" });
      if (m.state === "sent") items.push({ t: m.sent_at, text: t("msg_sent", { what }), kind: "outbox.sent" });
      if (m.state === "failed") items.push({ t: m.sent_at || m.created_at, text: t("msg_failed", { what, error: m.last_error || "" }), kind: "outbox.failed" });
    }
    items.sort((x, y) => (x.t || 0) - (y.t || 0));
    const ol = h("ol", { class: "timeline", "aria-label": t("timeline") });
    for (const item of items) {
      ol.appendChild(h("li", { class: "hop", "data-hop": item.kind },
        h("time", {}, clock(item.t)), " ", item.text));
    }
    return h("div", { class: "timeline-box" }, h("div", { class: "timeline-title" }, t("timeline")), ol);
  }

  function hopText(hop) {
    const d = hop.detail || {};
    const key = "hop_" + hop.hop.replace(/\W/g, "_");
    const vars = {
      via: d.via ? (t("via_" + d.via) !== "via_" + d.via ? t("via_" + d.via) : d.via) : "",
      who: d.operator, unit: d.unit, note: d.note, error: d.error, attempt: d.attempt, sender: d.sender, acc: d.acc_m,
    };
    if (TEXT[key] !== undefined) return t(key, vars);
    // A hop this page does not know yet: show it as it is rather than hide it.
    const extra = Object.entries(d).filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join(", ");
    return hop.hop + (extra ? " (" + extra + ")" : "");
  }

  // -- the wearables: last heard, battery, silent ------------------------------------------------------------
  function renderDevices() {
    const list = Array.from(devices.values()).sort((x, y) =>
      (deviceRank[x.status] ?? 9) - (deviceRank[y.status] ?? 9) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    document.getElementById("device-rows").replaceChildren(...list.map(deviceRow));
    const silent = list.filter((d) => d.status === "silent");
    const banner = document.getElementById("silent-banner");
    if (silent.length) {
      const names = silent.map((d) => (d.wearer ?? "?") + " (" + d.id + ")").join(", ");
      banner.textContent = t(silent.length === 1 ? "silent_one" : "silent_many", { n: silent.length, names });
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  function deviceRow(d) {
    const heard = d.last_heard_at
      ? [h("span", { class: "heard", "data-t": d.last_heard_at }, ago(d.last_heard_at)), " ",
        h("span", { class: "via" }, t("via_" + d.last_via) !== "via_" + d.last_via ? t("via_" + d.last_via) : d.last_via || "")]
      : h("span", { class: "never" }, t("never_heard"));
    let battery = t("battery_unknown");
    if (d.battery !== null && d.battery !== undefined) {
      battery = h("span", { class: d.low_battery ? "battery low" : "battery" }, (d.low_battery ? "⚠ " : "") + d.battery + " %");
    }
    const status = h("span", { class: "dev-status dev-" + d.status }, t("dev_" + d.status));
    const detail = d.status === "silent" ? h("div", { class: "dev-detail" }, t("dev_silent_detail")) :
      d.next_heartbeat_at ? h("div", { class: "dev-detail" }, t("next_heartbeat", { at: clock(d.next_heartbeat_at) })) : null;
    return h("tr", { class: "device status-" + d.status, id: "device-" + d.id, "data-status": d.status },
      h("td", { class: "dev-id" }, d.id), h("td", { class: "dev-wearer" }, d.wearer ?? t("unknown_wearer")),
      h("td", { class: "dev-heard" }, heard), h("td", { class: "dev-battery" }, battery),
      h("td", {}, status, detail));
  }

  async function loadDevices() {
    try {
      const response = await fetch("/api/devices", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      devices.clear();
      for (const d of data.devices) devices.set(d.id, d);
      renderDevices();
    } catch (err) {
      notice(t("load_devices_failed", { error: String(err.message || err) }));
    }
  }

  // -- live ages ---------------------------------------------------------------------------------------------
  function tick() {
    for (const el of document.querySelectorAll(".age[data-t], .heard[data-t]")) {
      el.textContent = ago(parseFloat(el.dataset.t));
    }
  }

  // -- talking to the hub ------------------------------------------------------------------------------------
  async function loadAlerts() {
    try {
      const response = await fetch("/api/alerts?state=active", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      clockOffset = data.now - Date.now() / 1000;
      // Alerts resolved during this session stay visible (at the bottom) until the page is reloaded.
      for (const [id, a] of alerts) if (a.state !== "resolved") alerts.delete(id);
      for (const a of data.alerts) if (!statusEvents.has(a.event)) alerts.set(a.id, a);
      loaded = true;
      render();
    } catch (err) {
      notice(t("load_failed", { error: String(err.message || err) }));
    }
  }

  // States only move forward and hops and sent messages only accumulate, so this orders two copies of an alert:
  // a slow action response must not overwrite a newer copy that came over the event stream.
  function freshness(a) {
    const settled = (a.outbox || []).filter((m) => m.state !== "pending").length;
    return [stateRank[a.state] ?? 0, (a.hops || []).length, (a.outbox || []).length, settled];
  }

  function upsert(a) {
    if (!a || a.id === undefined || statusEvents.has(a.event)) return;
    const current = alerts.get(a.id);
    if (current) {
      const fa = freshness(a), fc = freshness(current);
      for (let i = 0; i < fa.length; i++) {
        if (fa[i] > fc[i]) break;
        if (fa[i] < fc[i]) return;
      }
    }
    alerts.set(a.id, a);
    render();
  }

  // Beyond the page: an operating-system notification when the console is hidden behind other windows.
  function askNotifications() {
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().catch(() => {});
    }
  }

  function notifyNew(a) {
    if (!urgentEvents.has(a.event) || !document.hidden || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    try {
      new Notification(eventName(a.event) + " — " + (a.wearer ?? a.device_id), {
        body: categoryName(a.category), tag: "deme-" + a.id, requireInteraction: true,
      });
    } catch (e) { /* notifications unavailable */ }
  }

  async function act(id, action, extra) {
    const operator = operatorName();
    if (!operator) {
      notice(t("need_operator"));
      document.getElementById("operator").focus();
      return;
    }
    const buttons = document.querySelectorAll('#alert-' + id + ' button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const response = await fetch("/api/alerts/" + id + "/" + action, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ operator }, extra)),
      });
      let data = {};
      try { data = await response.json(); } catch (e) { data = {}; }
      if (response.ok) {
        forms.delete(String(id));
        upsert(data);
        return;
      }
      if (response.status === 409 && data.alert) {
        upsert(data.alert);
        notice(t("conflict", { action: t("btn_" + action), state: t("state_" + data.alert.state) }));
      } else {
        notice(t("action_failed", { error: data.error || ("HTTP " + response.status) }));
      }
    } catch (err) {
      notice(t("action_failed", { error: String(err.message || err) }));
    }
    render();
  }

  function setLink(state) {
    const el = document.getElementById("link");
    el.dataset.state = state;
    el.textContent = t("link_" + state);
    const banner = document.getElementById("connection-banner");
    if (state === "lost") {
      banner.textContent = t("connection_lost");
      banner.hidden = false;
    } else if (state === "live") {
      banner.hidden = true;
    }
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (source) source.close();
    setLink(source ? "lost" : "connecting");
    source = new EventSource("/api/events");
    lastSeen = Date.now();
    const seen = () => { lastSeen = Date.now(); };
    source.addEventListener("hello", (ev) => {
      seen();
      const data = JSON.parse(ev.data);
      heartbeatS = data.heartbeat_s || heartbeatS;
      clockOffset = data.now - Date.now() / 1000;
      setLink("live");
      loadAlerts();  // catch up with whatever happened while the stream was down
      loadDevices();
    });
    source.addEventListener("heartbeat", seen);
    source.addEventListener("resync", () => { seen(); loadAlerts(); loadDevices(); });
    for (const kind of ["device.status", "device.silent", "device.back"]) {
      source.addEventListener(kind, (ev) => {
        seen();
        const d = JSON.parse(ev.data).device;
        if (!d) return;
        devices.set(d.id, d);
        renderDevices();
        if (kind !== "device.status") {
          notice(t(kind === "device.silent" ? "device_silent_notice" : "device_back_notice",
            { who: d.wearer ?? "?", id: d.id }), kind === "device.silent" ? "warn" : "info");
        }
      });
    }
    for (const kind of ["alert.new", "alert.updated", "alert.duplicate", "outbox.sent", "outbox.failed",
      "incident.unanswered"]) {
      source.addEventListener(kind, (ev) => {
        seen();
        const data = JSON.parse(ev.data);
        if (data.alert) upsert(data.alert);
        if (kind === "alert.new" && data.alert) notifyNew(data.alert);
      });
    }
    source.addEventListener("alert.rejected", (ev) => {
      seen();
      const data = JSON.parse(ev.data);
      const d = data.detail || {};
      notice(t("rejected", { via: d.via || "", reason: d.reason || "" }), "warn");
    });
    source.addEventListener("modem.link", (ev) => {
      seen();
      const d = JSON.parse(ev.data).detail || {};
      if (typeof d.up !== "boolean") return;  // registration, power cycles...: the link state is unchanged
      const el = document.getElementById("modem");
      el.textContent = d.up ? t("modem_up") : t("modem_down");
      el.className = "modem " + (d.up ? "up" : "down");
      el.hidden = false;
    });
    source.onerror = () => {
      setLink("lost");
      // The browser retries by itself while CONNECTING; once CLOSED (e.g. the hub answered an error) we retry.
      if (source.readyState === EventSource.CLOSED) reconnectTimer = setTimeout(connect, 3000);
    };
  }

  // A stream that silently stopped (a NAT, a sleeping laptop) sends no error: watch the heartbeats.
  function watchdog() {
    if (Date.now() - lastSeen > (heartbeatS * 2 + 5) * 1000) {
      setLink("lost");
      connect();
    }
  }

  async function loadMeta() {
    const response = await fetch("/api/meta", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const meta = await response.json();
    const inClass = (name) => new Set(Object.keys(meta.events).filter((code) => meta.events[code].includes(name)));
    urgentEvents = inClass("urgent");
    lowPriorityEvents = inClass("low");
    statusEvents = inClass("status");
    const ranks = (names) => Object.fromEntries(names.map((name, rank) => [name, rank]));
    stateRank = ranks(meta.states);
    allowedFrom = meta.actions;
    deviceRank = ranks(meta.device_statuses);
  }

  // Without the event classes an SOS would look like any other alert: keep asking until the hub answers.
  async function loadMetaUntilLoaded() {
    for (;;) {
      try {
        await loadMeta();
        return;
      } catch (err) {
        notice(t("load_failed", { error: String(err.message || err) }));
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    }
  }

  // -- start ---------------------------------------------------------------------------------------------------
  async function start() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    const toggle = document.getElementById("lang-toggle");
    const other = lang === "fr" ? "en" : "fr";
    const url = new URLSearchParams(window.location.search);
    url.set("lang", other);
    toggle.href = "?" + url.toString();
    toggle.hreflang = other;
    toggle.textContent = t("lang_other");
    const input = document.getElementById("operator");
    input.placeholder = t("operator_placeholder");
    try { input.value = localStorage.getItem("deme.operator") || ""; } catch (e) { /* storage disabled */ }
    document.addEventListener("click", askNotifications, { once: true });
    input.addEventListener("input", () => {
      try { localStorage.setItem("deme.operator", input.value.trim()); } catch (e) { /* storage disabled */ }
    });
    await loadMetaUntilLoaded();
    render();
    connect();
    setInterval(tick, 1000);
    setInterval(watchdog, 5000);
  }

  start();
})();
