// The BalloonLab dashboard: polls the JSON views, draws a stacked memory chart per VM with uPlot, lists events,
// and sends the operator's actions. Every value from the server is set as text, never as HTML.
"use strict";

const MIB_PER_PAGE = 4096 / (1 << 20);
const COLORS = { mapped: "#3b75af", balloon: "#ef8636", swapped: "#c53a32" };
// VMs in the machine's chart: colours apart from the layers' (mapped, ballooned, host-swapped).
const VM_PALETTE = ["#17becf", "#8d69b8", "#519e3e", "#bcbd22", "#84584e", "#d57dbf", "#7f7f7f", "#2a9d8f",
  "#6a4c93", "#b5838d"];
const SCALES = { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, max) * 1.05] } };

let csrf = null;
let lastSample = 0;
let lastEvent = 0;
const times = [];          // lab seconds of each sample kept
const machineFrames = [];  // the machine's memory, in pages, at each sample
const perVm = new Map();   // VM name -> {mapped:[], balloon:[], swapped:[], memory:[]} aligned with times
const charts = new Map();  // VM name -> {plot, el}
let machinePlot = null;
let machineVms = "";

function text(el, value) { el.textContent = value; }
function mib(pages) { return pages == null ? null : pages * MIB_PER_PAGE; }
function human(pages) {
  let v = pages * 4096, u = 0;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  while (u < units.length - 1 && Math.abs(v) >= 1024) { v /= 1024; u++; }
  return (Number.isInteger(v) ? v : v.toFixed(1)) + units[u];
}
function labTime(ns) { return (ns / 1e9).toFixed(1) + "s"; }

async function getJson(path) {
  const r = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (r.status === 401) { showSignIn(); throw new Error("signed out"); }
  return r.json();
}

function showSignIn() {
  document.getElementById("signin").hidden = false;
  document.getElementById("lab").hidden = true;
  text(document.getElementById("machine"), "not signed in");
}

async function start() {
  const s = await (await fetch("/api/session", { credentials: "same-origin", cache: "no-store" })).json();
  if (!s.signedIn) { showSignIn(); return; }
  csrf = s.csrf;
  document.getElementById("lab").hidden = false;
  document.getElementById("balloon-form").addEventListener("submit", e => { e.preventDefault(); setTarget(); });
  document.getElementById("driver-form").addEventListener("submit", e => { e.preventDefault(); setMode(); });
  tick();
  setInterval(tick, 1000);
}

async function tick() {
  try {
    const [state, history, events] = await Promise.all([getJson("/api/state"),
      getJson("/api/history?after=" + lastSample), getJson("/api/events?after=" + lastEvent)]);
    showState(state);
    addSamples(history.samples);
    addEvents(events.events);
  } catch (e) {
    // the next tick tries again
  }
}

function showState(s) {
  const m = s.machine;
  if (!m) { text(document.getElementById("machine"), s.problem || "waiting for the hypervisor"); return; }
  text(document.getElementById("machine"), "lab time " + labTime(s.labTimeNs) + " | free " + human(m.freeFrames)
    + " of " + human(m.machineFrames) + " (" + (m.freeState || "-") + ") | " + m.poweredOnVms + " VMs, "
    + human(m.configuredPages) + " configured | host swap " + human(m.hostSwapUsed) + " | policy "
    + (m.policy || "-") + (s.problem ? " | " + s.problem : ""));
  const body = document.querySelector("#vm-table tbody");
  body.replaceChildren();
  const select = document.getElementById("control-vm");
  const chosen = select.value;
  const names = s.vms.map(v => v.name);
  if (Array.from(select.options).map(o => o.value).join() !== names.join()) {
    select.replaceChildren(...names.map(n => { const o = document.createElement("option"); o.value = n; text(o, n); return o; }));
    if (names.includes(chosen)) { select.value = chosen; }
  }
  for (const v of s.vms) {
    const tr = document.createElement("tr");
    tr.dataset.vm = v.name;
    const cells = [v.name, human(v.memoryPages), human(v.mappedPages), human(v.balloonPages),
      human(v.targetPages) + (v.uncooperative ? "!" : ""), human(v.hostSwappedPages),
      v.driverConnected ? (v.driverMode || "enabled") : "not connected", v.guestFaults, v.hiddenFaults,
      v.guestFreePages === undefined ? "-" : human(v.guestFreePages),
      v.guestAvailablePages === undefined ? "-" : human(v.guestAvailablePages),
      v.guestSwapOut === undefined ? "-" : v.guestSwapOut,
      human(v.sharedPages), human(v.savedPages), v.cowBreaks];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      text(td, String(c));
      if (i === 4 && v.uncooperative) { td.className = "uncooperative"; td.title = "the driver does not meet its target"; }
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
}

function addSamples(samples) {
  for (const s of samples) {
    const i = times.length;
    times.push(s.t);
    machineFrames.push(s.machineFrames);
    for (const [name, a] of Object.entries(s.vms)) {
      if (!perVm.has(name)) {
        perVm.set(name, { mapped: new Array(i).fill(null), balloon: new Array(i).fill(null),
          swapped: new Array(i).fill(null), memory: new Array(i).fill(null) });
      }
    }
    for (const [name, d] of perVm) {
      const a = s.vms[name];
      d.mapped.push(a ? a[0] : null); d.balloon.push(a ? a[1] : null);
      d.swapped.push(a ? a[2] : null); d.memory.push(a ? a[3] : null);
    }
    lastSample = s.seq;
  }
  // Keep what the server keeps (its last 2400 samples), so a long run does not grow the page without bound.
  const extra = times.length - 2400;
  if (extra > 0) {
    times.splice(0, extra);
    machineFrames.splice(0, extra);
    for (const d of perVm.values()) { for (const k of Object.keys(d)) { d[k].splice(0, extra); } }
  }
  if (samples.length > 0) { draw(); }
}

function sortedNames() {
  // Natural order (vm2 before vm10), as the server lists them.
  const collator = new Intl.Collator("en", { numeric: true });
  return Array.from(perVm.keys()).sort((a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

function size(el) { return { width: Math.max(300, el.clientWidth - 10), height: 200 }; }

function vmData(d) {
  const top = d.mapped.map((m, i) => m == null ? null : mib(m + d.balloon[i] + d.swapped[i]));
  const mid = d.mapped.map((m, i) => m == null ? null : mib(m + d.balloon[i]));
  return [times.slice(), top, mid, d.mapped.map(mib), d.memory.map(mib)];
}

function vmChart(name, el) {
  // Stacked: each series is the sum of the layers below it, drawn from the top down so each fill shows its layer.
  const own = [null, (d, i) => d.swapped[i], (d, i) => d.balloon[i], (d, i) => d.mapped[i], (d, i) => d.memory[i]];
  // Opaque fills: each band lies over the ones it stacks on, and must not let them show through.
  const layer = (label, color, si) => ({ label, stroke: color, fill: color, width: 1, points: { show: false },
    value: (u, v, s, i) => i == null || perVm.get(name).mapped[i] == null ? "-" : mib(own[si](perVm.get(name), i)).toFixed(1) });
  return new uPlot({ ...size(el), title: name, scales: SCALES,
    axes: [{ label: "lab time (s)" }, { label: "MiB" }],
    series: [{ label: "t" }, layer("host-swapped", COLORS.swapped, 1), layer("ballooned", COLORS.balloon, 2),
      layer("mapped", COLORS.mapped, 3), { label: "configured", stroke: "#222", dash: [6, 4], width: 1, points: { show: false } }] },
    vmData(perVm.get(name)), el);
}

function machineChart(names, el) {
  // The machine's memory by VM, stacked: each VM's mapped pages (frames it holds) over the ones before it, under
  // the machine's size; what is left above is free.
  const series = [{ label: "t" }, { label: "machine", stroke: "#222", dash: [6, 4], width: 1, points: { show: false } }];
  names.slice().reverse().forEach((n, j) => {
    const c = VM_PALETTE[(names.length - 1 - j) % VM_PALETTE.length];
    series.push({ label: n, stroke: c, fill: c, width: 1, points: { show: false } });
  });
  return new uPlot({ ...size(el), title: "the machine: frames mapped by each VM (stacked)", scales: SCALES,
    axes: [{ label: "lab time (s)" }, { label: "MiB" }], series }, machineData(names), el);
}

function machineData(names) {
  const sums = [];
  let acc = times.map(() => 0);
  for (const n of names) {
    const d = perVm.get(n);
    acc = acc.map((a, i) => a + (d.mapped[i] == null ? 0 : mib(d.mapped[i])));
    sums.push(acc.slice());
  }
  return [times.slice(), machineFrames.map(mib), ...sums.reverse()];
}

function draw() {
  const names = sortedNames();
  const container = document.getElementById("charts");
  for (const n of names) {
    if (!charts.has(n)) {
      const el = document.createElement("div");
      el.className = "chart";
      el.id = "chart-" + n;
      el.dataset.vm = n;
      charts.set(n, { el, plot: null });
    }
  }
  // Panels in natural order, in a grid.
  const wanted = names.map(n => charts.get(n).el);
  if (Array.from(container.children).some((c, i) => c !== wanted[i]) || container.children.length !== wanted.length) {
    container.replaceChildren(...wanted);
  }
  for (const n of names) {
    const c = charts.get(n);
    const d = perVm.get(n);
    if (c.plot == null) { c.plot = vmChart(n, c.el); } else { c.plot.setData(vmData(d)); }
    const last = times.length - 1;
    c.el.dataset.points = String(times.length);
    c.el.dataset.balloonPages = String(d.balloon[last] == null ? 0 : d.balloon[last]);
  }
  const mel = document.getElementById("machine-chart");
  if (machinePlot == null || machineVms !== names.join()) {
    if (machinePlot) { machinePlot.destroy(); }
    machinePlot = machineChart(names, mel);
    machineVms = names.join();
  } else {
    machinePlot.setData(machineData(names));
  }
  mel.dataset.points = String(times.length);
}

function addEvents(events) {
  const list = document.getElementById("events");
  for (const e of events) {
    const li = document.createElement("li");
    text(li, "#" + e.seq + " " + labTime(e.labTimeNs) + " " + e.kind + " " + (e.vm || "-") + " " + e.message);
    list.insertBefore(li, list.firstChild);
    lastEvent = e.seq;
  }
  while (list.children.length > 500) { list.removeChild(list.lastChild); }
}

async function control(path, payload) {
  const out = document.getElementById("control-result");
  out.className = "";
  text(out, "sending...");
  try {
    const r = await fetch(path, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-BalloonLab-Csrf": csrf }, body: JSON.stringify(payload) });
    const a = await r.json();
    if (!r.ok) { out.className = "error"; }
    text(out, r.ok ? a.message : "refused (" + r.status + "): " + a.error);
  } catch (e) {
    out.className = "error";
    text(out, "the dashboard does not answer");
  }
}

function setTarget() {
  control("/api/balloon", { vm: document.getElementById("control-vm").value,
    target: document.getElementById("target").value.trim() });
}

function setMode() {
  control("/api/driver", { vm: document.getElementById("control-vm").value,
    mode: document.getElementById("mode").value.trim() });
}

start();
