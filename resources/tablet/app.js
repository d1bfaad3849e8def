// The commander's tablet (docs/tablet.md). No build step: one file, no dependencies.
"use strict";
const zh = !/^en\b/i.test(navigator.language || "zh");
const T = (z, e) => (zh ? z : e);
const $ = (s, el = document) => el.querySelector(s);
const STATE_WORDS = { playing: T("播放中", "playing"), connecting: T("连接中", "connecting"),
  error: T("故障", "error"), offline: T("离线", "offline"), no_signal: T("无信号", "no signal"),
  stale: T("卡顿", "stale"), idle: T("空闲", "idle") };
const STATUS_WORDS = { new: T("新事件", "new"), dispatched: T("已派遣", "dispatched"),
  arrived: T("已到场", "arrived"), controlled: T("已控制", "controlled"), closed: T("已办结", "closed") };
const PRIO_SHAPE = { 1: "◆", 2: "▲", 3: "■", 4: "●" };
const STAGE_WORDS = { respond: T("响应", "respond"), arrive: T("到场", "arrive"), control: T("控制", "control"),
  track: T("跟踪", "track"), close: T("办结", "close") };
let ws = null, nextId = 1, state = null, selected = null, placing = null, moving = null, offsetMs = 0;
const wallNow = () => (Date.now() + offsetMs) / 1000;
const thumbSeen = new Map(); // screen → [version, when it arrived (ms)]
const waiting = new Map();

function say(text, error = false) {
  const el = $("#say");
  el.textContent = text; el.hidden = !text; el.className = error ? "error" : "";
  if (text) setTimeout(() => { if (el.textContent === text) el.hidden = true; }, 4000);
}

function send(cmd, args = {}) {
  return new Promise((resolve, reject) => {
    if (!ws || ws.readyState !== 1) { reject(new Error(T("未连接", "not connected"))); return; }
    const id = String(nextId++);
    waiting.set(id, { resolve, reject, at: performance.now() });
    ws.send(JSON.stringify({ id, cmd, args }));
  });
}

function explain(err) {
  if (err && err.code === "lease_held") return T(`由「${err.message}」控制中`, `steered by ${err.message}`);
  if (err && err.code === "forbidden") return T("此平板只能查看", "this tablet may only watch");
  if (err && err.code === "ptz_tripped") return T("连接中断，云台已停止：请松开后重新按住", "connection lost: the camera stopped — lift and press again");
  return (err && (err.message || err.code)) || String(err);
}

async function act(cmd, args, done) {
  try {
    const t0 = performance.now();
    const data = await send(cmd, args);
    // tests and bench/tablet.py read these: the last acknowledged command, and each
    // command's last ack time (data-ack-preset-activate="12")
    const ms = String(Math.round(performance.now() - t0));
    document.body.dataset.lastAck = cmd;
    document.body.setAttribute(`data-ack-${cmd.replace(/\./g, "-")}`, ms);
    if (done) done(data);
    return data;
  } catch (e) { say(explain(e), true); return null; }
}

function connect() {
  ws = new WebSocket(`wss://${location.host}/ws`);
  ws.onopen = () => { $("#conn").className = "ok"; $("#conn").textContent = "●"; };
  ws.onclose = () => {
    $("#conn").className = "bad"; $("#conn").textContent = "◆";
    for (const w of waiting.values()) w.reject(new Error(T("连接断开", "connection lost")));
    waiting.clear();
    if (!$("#revoked").hidden) return;
    setTimeout(connect, 1500);
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "state") {
      if (msg.now) offsetMs = msg.now * 1000 - Date.now(); // the wall's clock, once
      state = msg; render(); return;
    }
    if (msg.type === "revoked") {
      const r = $("#revoked");
      r.textContent = T("此平板的配对已被撤销。", "This tablet's pairing was revoked.");
      r.hidden = false; r.dataset.revoked = "1"; ws.close(); return;
    }
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.ok) w.resolve(msg.data); else w.reject(msg.error);
  };
}
// the heartbeat (the wall stops a PTZ move when it misses it), saying whether this page
// shows the screens now: the wall pictures them only while some page does
const looking = () => document.visibilityState === "visible" && $("#wall").classList.contains("on");
let hbAt = 0;
setInterval(() => {
  // every 300 ms while a PTZ move is held (the wall stops it after 1 s without), else each second
  if (!ws || ws.readyState !== 1 || (!moving && Date.now() - hbAt < 1000)) return;
  hbAt = Date.now();
  ws.send(JSON.stringify({ cmd: "hb", args: { looking: looking() } }));
}, 300);

// --- the header ---------------------------------------------------------------------------
function renderHeader() {
  const w = state.wall || {};
  const emergency = w.mode === "emergency";
  $("#wallstate").className = emergency ? "emergency" : "";
  $("#wallstate .shape").textContent = emergency ? "▲" : "●";
  $("#mode").textContent = emergency ? T("应急模式", "EMERGENCY") : T("常态", "normal");
  $("#preset").textContent = w.preset_name || w.preset || "—";
  const lease = state.lease, me = state.me.name;
  const holder = lease ? lease.holder : "";
  const el = $("#lease");
  el.dataset.lease = holder;
  el.textContent = !holder ? T("无人控制", "nobody steering")
    : holder === me ? T("本机控制中", "you are steering") : T(`「${holder}」控制中`, `${holder} is steering`);
  $("#take").hidden = !holder || holder === me || state.me.role !== "commander";
  $("#take").textContent = T("接管", "Take over");
  // an incident replayed on the wall: the moment its data panels show, and the way back
  const rp = state.replay, bar = $("#replaybar");
  bar.hidden = !rp;
  bar.dataset.replay = rp ? String(rp.at) : "";
  if (rp) {
    // in the wall's time (China Standard Time, as its clocks and timeline), not the tablet's zone
    const at = new Date(rp.at * 1000).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
    $("#replayat").textContent = T(`回放中 ${at}`, `Replaying ${at}`);
    const live = $('[data-action="live"]');
    live.hidden = state.me.role !== "commander";
    live.textContent = T("回到实时", "Back to live");
  }
}
$('[data-action="live"]').addEventListener("click", () => act("replay.stop", {}, () => say(T("已回到实时", "live again"))));

// --- the wall as it is ---------------------------------------------------------------------
function renderScreens() {
  const box = $("#screens");
  for (const s of state.screens) {
    let fig = box.querySelector(`[data-screen="${CSS.escape(s.name)}"]`);
    if (!fig) {
      fig = document.createElement("figure");
      fig.dataset.screen = s.name;
      fig.innerHTML = `<img alt=""><figcaption></figcaption><span class="age"></span>`;
      fig.querySelector("figcaption").textContent = s.name;
      fig.querySelector("img").addEventListener("click", () => fig.classList.toggle("big"));
      box.appendChild(fig);
      refreshThumb(s.name);
    }
    const img = fig.querySelector("img");
    img.style.aspectRatio = `${s.size[0]} / ${s.size[1]}`;
    fig.querySelectorAll(".tilebox").forEach((b) => b.remove());
    for (const t of state.tiles.filter((t) => t.screen === s.name && t.box)) {
      const b = document.createElement("button");
      b.className = "tilebox" + (selected === t.index ? " sel" : "") + (placing ? " placing" : "");
      b.dataset.tile = String(t.index);
      b.title = `${t.name || t.camera || ""} · ${STATE_WORDS[t.state] || t.state}`;
      const [x, y, w, h] = t.box;
      Object.assign(b.style, { left: `${x * 100}%`, top: `${y * 100}%`, width: `${w * 100}%`, height: `${h * 100}%` });
      b.addEventListener("click", (ev) => { ev.stopPropagation(); tapTile(t.index); });
      fig.appendChild(b);
    }
  }
  renderTile();
}

function refreshThumb(screen) {
  // a new picture of the screen: loaded when the wall says its version changed
  const fig = $(`[data-screen="${CSS.escape(screen)}"]`);
  const t = state && state.thumbs && state.thumbs[screen];
  if (!fig) return;
  const img = fig.querySelector("img");
  const v = t ? String(t.v) : "0";
  if (img.dataset.v === v && img.getAttribute("src")) return;
  if (!looking() && img.getAttribute("src")) return;
  img.dataset.v = v;
  const next = new Image();
  next.onload = () => { img.src = next.src; };
  next.src = `/thumb/${encodeURIComponent(screen)}.jpg?v=${v}`;
}
function showAges() {
  for (const s of (state && state.screens) || []) {
    const t = state.thumbs && state.thumbs[s.name];
    const seen = thumbSeen.get(s.name);
    if (t && (!seen || seen[0] !== t.v)) thumbSeen.set(s.name, [t.v, Date.now()]);
    refreshThumb(s.name);
  }
}
setInterval(() => {  // each picture's age, on this page's clock (its version's arrival)
  for (const [screen, [, at]] of thumbSeen) {
    const el = $(`[data-screen="${CSS.escape(screen)}"] .age`);
    if (el) { const age = (Date.now() - at) / 1000; el.textContent = `${Math.round(age)} s`; el.dataset.ageS = age.toFixed(1); }
  }
  for (const row of document.querySelectorAll("[data-due-at]")) {  // deadlines count down here
    const left = Math.round(Number(row.dataset.dueAt) - wallNow());
    row.textContent = fmtLeft(left); row.classList.toggle("late", left < 0);
  }
}, 1000);

function tapTile(index) {
  if (placing) {
    const cam = placing; placing = null;
    act("tile.place", { tile: index, camera: cam.id }, () => say(T(`已将「${cam.name}」放到画面 ${index + 1}`, `${cam.name} on tile ${index + 1}`)));
    $("#placehint").textContent = "";
    renderScreens(); return;
  }
  selected = selected === index ? null : index;
  renderScreens();
}

function renderTile() {
  const panel = $("#tile");
  const t = state.tiles.find((x) => x.index === selected);
  panel.hidden = !t;
  if (!t) return;
  $("#tilename").textContent = `${T("画面", "Tile")} ${t.index + 1} · ${t.name || t.camera || "—"} · ${STATE_WORDS[t.state] || t.state}`;
  const steer = t.ptz && state.me.role === "commander";
  $("#ptz").hidden = !steer;
  $("#ptzno").textContent = t.ptz ? (steer ? "" : T("此平板只能查看", "this tablet may only watch")) : T("非云台摄像机", "not a PTZ camera");
  $("#ptz").dataset.camera = t.camera || "";
  if (t.holder) $("#ptzno").textContent = T(`「${t.holder}」正在操作此云台`, `${t.holder} holds this camera`);
  const box = $("#ptzpresets"), want = `${t.camera}|${(t.ptz_presets || []).map((p) => p.id).join(",")}`;
  if (box.dataset.for !== want) {
    box.dataset.for = want; box.innerHTML = "";
    for (const p of t.ptz_presets || []) {
      const b = document.createElement("button");
      b.dataset.ptzPreset = p.id; b.textContent = p.name || p.id;
      b.addEventListener("click", () => act("ptz.goto", { camera: t.camera, preset: p.id }));
      box.appendChild(b);
    }
  }
}

// PTZ: hold to move (speed with distance from the centre), lift to stop; zoom while held
function pad() {
  const el = $("[data-ptz-pad]"), knob = $(".knob", el);
  let last = 0, sent = "";
  const camera = () => $("#ptz").dataset.camera;
  const move = (ev) => {
    if (tripped) return;  // the knob stays centred until the finger lifts
    const r = el.getBoundingClientRect();
    const cx = r.left + r.width / 2, cy = r.top + r.height / 2, R = r.width / 2;
    let dx = (ev.clientX - cx) / R, dy = (ev.clientY - cy) / R;
    const d = Math.hypot(dx, dy); if (d > 1) { dx /= d; dy /= d; }
    knob.style.left = `${(dx + 1) * R - 32}px`; knob.style.top = `${(dy + 1) * R - 32}px`;
    want = { pan: Math.round(dx * 10) / 10, tilt: Math.round(-dy * 10) / 10 };
    flush();
  };
  // at most one move every 120 ms, and the finger's latest position always sent
  // tripped: the wall stopped this move when the page went quiet; nothing more is sent
  // until the finger lifts (the wall refuses it anyway: a late move never turns the dome)
  let want = null, timer = 0, tripped = false;
  const flush = () => {
    if (!want || tripped) return;
    const key = `${want.pan},${want.tilt}`, now = performance.now();
    if (key === sent) return;
    if (now - last < 120) { clearTimeout(timer); timer = setTimeout(flush, 120 - (now - last)); return; }
    sent = key; last = now; moving = camera();
    send("ptz.move", { camera: moving, pan: want.pan, tilt: want.tilt, zoom: 0 }).catch((e) => {
      if (e && e.code === "ptz_tripped") { tripped = true; knob.style.left = ""; knob.style.top = ""; }
      say(explain(e), true);
    });
  };
  const end = () => {
    clearTimeout(timer); want = null; tripped = false;
    knob.style.left = ""; knob.style.top = ""; sent = "";
    if (moving) { const cam = moving; moving = null; act("ptz.stop", { camera: cam }); }
  };
  el.addEventListener("pointerdown", (ev) => { el.setPointerCapture(ev.pointerId); move(ev); });
  el.addEventListener("pointermove", (ev) => { if (el.hasPointerCapture(ev.pointerId)) move(ev); });
  el.addEventListener("pointerup", end);
  el.addEventListener("pointercancel", end);
  el.addEventListener("lostpointercapture", end);
  for (const b of document.querySelectorAll("[data-zoom]")) {
    const z = Number(b.dataset.zoom);
    b.addEventListener("pointerdown", () => { moving = camera(); send("ptz.move", { camera: moving, pan: 0, tilt: 0, zoom: z * 0.6 }).catch((e) => say(explain(e), true)); });
    b.addEventListener("pointerup", end);
    b.addEventListener("pointercancel", end);
    b.addEventListener("pointerleave", end);
  }
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible" && ws && ws.readyState === 1) {
    moving = null;
    ws.send(JSON.stringify({ cmd: "hidden" })); // the server stops whatever this page turned
  }
});

// --- presets and the emergency -------------------------------------------------------------
async function loadPresets() {
  const data = await act("presets", { q: $("#pq").value });
  if (!data) return;
  const box = $("#plist"); box.innerHTML = "";
  for (const p of data.presets) {
    const b = document.createElement("button");
    b.dataset.preset = p.id;
    if (p.active) b.className = "active";
    b.innerHTML = `<span class="name"></span><span class="scen"></span>`;
    b.querySelector(".name").textContent = (p.emergency ? "▲ " : "") + p.name;
    b.querySelector(".scen").textContent = `${p.scenario || ""} · ${p.cameras} ${T("路", "cams")}`;
    b.addEventListener("click", () => act("preset.activate", { preset: p.id }, () => { say(T(`已切换：${p.name}`, `switched: ${p.name}`)); setTimeout(loadPresets, 300); }));
    box.appendChild(b);
  }
}
let pqTimer = 0;
$("#pq").addEventListener("input", () => { clearTimeout(pqTimer); pqTimer = setTimeout(loadPresets, 150); });

function holdToConfirm(button, run) {
  let timer = 0;
  const start = (ev) => { ev.preventDefault(); button.classList.add("holding"); timer = setTimeout(() => { button.classList.remove("holding"); run(); }, 1500); };
  const cancel = () => { clearTimeout(timer); button.classList.remove("holding"); };
  button.addEventListener("pointerdown", start);
  button.addEventListener("pointerup", cancel);
  button.addEventListener("pointerleave", cancel);
  button.addEventListener("pointercancel", cancel);
}
holdToConfirm($('[data-action="emergency"]'), () => act("emergency", { preset: $("#epreset").value || undefined }, () => say(T("已转入应急模式", "emergency mode"))));
holdToConfirm($('[data-action="normal"]'), () => act("normal", {}, () => say(T("已恢复常态", "back to normal"))));

function renderEmergencyChoices() {
  const sel = $("#epreset"), keep = sel.value;
  const want = state.emergency_presets.map((p) => p.id).join("|");
  if (sel.dataset.ids === want) return;
  sel.dataset.ids = want; sel.innerHTML = "";
  for (const p of state.emergency_presets) {
    const o = document.createElement("option"); o.value = p.id; o.textContent = p.name; sel.appendChild(o);
  }
  if (keep) sel.value = keep;
}

// --- incidents -----------------------------------------------------------------------------
function fmtLeft(s) {
  const a = Math.abs(s), m = Math.floor(a / 60), sec = a % 60;
  const t = `${m}:${String(sec).padStart(2, "0")}`;
  return s < 0 ? T(`超时 ${t}`, `late ${t}`) : t;
}
function renderIncidents() {
  const box = $("#ilist"); box.innerHTML = "";
  for (const i of state.incidents) {
    const row = document.createElement("button");
    row.className = "row"; row.dataset.incident = i.id; row.style.width = "100%";
    const late = i.due && i.due.at < wallNow();
    row.innerHTML = `<span class="prio p${i.priority}"></span><span class="grow"><b class="t"></b><br><span class="dim a"></span></span><span class="due"></span>`;
    $(".prio", row).textContent = PRIO_SHAPE[i.priority] || "●";
    $(".t", row).textContent = i.title || i.id;
    $(".a", row).textContent = `${STATUS_WORDS[i.status] || i.status} · ${i.address || ""}`;
    const due = $(".due", row);
    if (i.due) {
      due.dataset.dueAt = String(i.due.at);
      due.textContent = fmtLeft(Math.round(i.due.at - wallNow()));
      if (late) due.classList.add("late");
    }
    row.addEventListener("click", () => openCard(i.id));
    box.appendChild(row);
  }
}
async function openCard(id) {
  const data = await act("incident", { incident: id });
  if (!data) return;
  const inc = data.incident, card = $("#card");
  card.innerHTML = "";
  card.dataset.incident = inc.id;
  const h = document.createElement("h2");
  const shape = document.createElement("span");
  shape.className = `p${inc.priority}`; shape.textContent = `${PRIO_SHAPE[inc.priority] || ""} `;
  h.appendChild(shape); h.appendChild(document.createTextNode(inc.title));
  card.appendChild(h);
  const p = document.createElement("p");
  p.textContent = `${STATUS_WORDS[inc.status] || inc.status} · ${inc.address || ""} · ${inc.detail || ""}`;
  card.appendChild(p);
  const dl = document.createElement("p"); dl.className = "dim";
  dl.textContent = Object.entries(inc.deadlines || {}).map(([k, v]) => `${STAGE_WORDS[k] || k} ${String(v).slice(11, 19)}`).join(" · ");
  card.appendChild(dl);
  for (const pic of data.pictures || []) {  // the picture, with the analytics' boxes over it
    const fig = document.createElement("figure"); fig.className = "evidence"; fig.dataset.picture = String(pic.n);
    const img = document.createElement("img"); img.alt = "";
    img.src = `/picture/${encodeURIComponent(inc.id)}/${pic.n}`;
    fig.appendChild(img);
    for (const b of pic.boxes) {
      const d = document.createElement("div"); d.className = "box";
      Object.assign(d.style, { left: `${b.x * 100}%`, top: `${b.y * 100}%`, width: `${b.w * 100}%`, height: `${b.h * 100}%` });
      const label = document.createElement("span");
      label.textContent = `${b.label || ""}${b.score != null ? ` ${Math.round(b.score * 100)}%` : ""}`;
      d.appendChild(label); fig.appendChild(d);
    }
    card.appendChild(fig);
  }
  const acts = document.createElement("div"); acts.className = "actions"; card.appendChild(acts);
  const add = (action, text, run, extra = {}) => {
    const b = document.createElement("button"); b.dataset.action = action; b.textContent = text;
    Object.assign(b.dataset, extra); b.addEventListener("click", run); acts.appendChild(b); return b;
  };
  const steer = state.me.role === "commander";  // a viewer's page offers nothing it may not do
  if (steer) add("ack", T("确认", "Acknowledge"), () => act("incident.ack", { incident: inc.id }, () => say(T("已确认", "acknowledged"))));
  if (steer) add("focus", T("大屏联动", "Show on wall"), () => act("incident.focus", { incident: inc.id }, () => say(T("已联动", "on the wall"))));
  if (steer) add("replay", T("事件回溯", "Replay on wall"), () => act("incident.replay", { incident: inc.id }, () => say(T("回溯中", "replaying"))));
  for (const u of steer ? data.units : []) {
    add("dispatch", `${T("派遣", "Dispatch")} ${u.name || u.id} · ${u.distance_m} m`,
      () => act("incident.dispatch", { incident: inc.id, unit: u.id }, () => say(T("已派遣", "dispatched"))), { unit: u.id });
  }
  add("close", T("关闭", "Close"), () => { card.hidden = true; });
  const hist = document.createElement("ol"); hist.className = "dim";
  for (const step of (inc.history || []).slice(-8)) {
    const li = document.createElement("li");
    li.textContent = `${String(step.t).slice(11, 19)} ${step.by} ${STATUS_WORDS[step.status] || step.status || step.note || step.unit || ""}`;
    hist.appendChild(li);
  }
  card.appendChild(hist);
  card.hidden = false;
}

// --- a camera onto a tile ------------------------------------------------------------------
async function loadCameras() {
  const q = $("#cq").value.trim();
  const box = $("#clist"); box.innerHTML = "";
  if (!q) return;
  const data = await act("cameras", { q });
  if (!data) return;
  for (const c of data.cameras) {
    const row = document.createElement("div"); row.className = "row"; row.dataset.camera = c.id;
    row.innerHTML = `<span class="grow"><b class="n"></b><br><span class="dim r"></span></span>`;
    $(".n", row).textContent = `${c.ptz ? "⊕ " : ""}${c.name || c.id}`;
    $(".r", row).textContent = `${c.region || ""} · ${c.status === "online" ? T("在线", "online") : T("离线", "offline")}`;
    const b = document.createElement("button"); b.dataset.action = "place"; b.textContent = T("上墙", "To a tile");
    b.addEventListener("click", () => {
      placing = c; selectTab("wall"); renderScreens();
      say(T(`点选大屏上的画面放置「${c.name}」`, `tap a tile for ${c.name}`));
    });
    row.appendChild(b); box.appendChild(row);
  }
}
let cqTimer = 0;
$("#cq").addEventListener("input", () => { clearTimeout(cqTimer); cqTimer = setTimeout(loadCameras, 200); });

// --- tabs, lease, render -------------------------------------------------------------------
function selectTab(name) {
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("on", b.dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("on", s.id === name);
  if (name === "presets") loadPresets();
}
const TAB_WORDS = { wall: T("大屏", "Wall"), presets: T("预案", "Presets"), incidents: T("事件", "Incidents"), cameras: T("摄像头", "Cameras") };
for (const b of document.querySelectorAll("nav button")) { b.textContent = TAB_WORDS[b.dataset.tab]; b.addEventListener("click", () => selectTab(b.dataset.tab)); }
$('[data-action="emergency"] .label').textContent = T("按住 1.5 秒：转应急", "Hold 1.5 s: emergency");
$('[data-action="normal"] .label').textContent = T("按住 1.5 秒：恢复常态", "Hold 1.5 s: normal");
$("#pq").placeholder = T("预案名称、场景或拼音首字母", "preset name, scenario or pinyin initials");
$("#cq").placeholder = T("摄像头名称、编号或区域", "camera name, id or region");
$("#take").addEventListener("click", () => {
  if (confirm(T(`接管「${state.lease.holder}」的控制？`, `Take control from ${state.lease.holder}?`))) act("lease.take", {});
});

function render() {
  renderHeader(); renderScreens(); renderIncidents(); renderEmergencyChoices(); showAges();
}
pad();
connect();
