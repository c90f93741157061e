// Command-center console: place an incident, rank candidates with routes, dispatch, follow the live timeline.
import { ApiError, EVENT_NAMES, beijing, clock, el, get, km, minutes, patch, phone, post, showFieldErrors, clearFieldErrors, telLink } from "./api.js";
import { closedStretches, createMap, routeLatLngs, textTip } from "./map.js";

const L = window.L;
const config = JSON.parse(document.getElementById("console-config").textContent);
const LEVELS = Object.fromEntries(config.levels);
const $ = (id) => document.getElementById(id);
const NEED_COLORS = ["#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#4e342e"];
// channels: which way a message reached whom, its delivery state, and how the answer came
const CHANNEL_NAMES = { sms: "短信", voice: "语音", link: "链接", dispatcher: "调度员" };
const MESSAGE_STATES = { queued: "待发送", sending: "发送中", sent: "已发出", delivered: "已送达", undelivered: "未送达", failed: "失败", cancelled: "已取消" };

function channelCell(a) {
  const reached = (a.messages || []).map((m) => `${m.channel_name || CHANNEL_NAMES[m.channel] || "短信"}→${m.recipient} ${MESSAGE_STATES[m.status] || m.status}`);
  const ack = a.ack_channel ? `${CHANNEL_NAMES[a.ack_channel] || a.ack_channel}确认${a.ack_s != null ? ` ${Math.round(a.ack_s)}秒` : ""}` : null;
  return el("td", { class: "small" }, reached.join("；"), ack ? el("div", { class: "muted" }, ack) : null);
}

const state = {
  types: [], capabilities: new Map(), incidents: [], selected: null, candidates: null, chosen: new Map(),
  pending: null, placeChosen: null, needsEdited: false, timelineTimer: null, lastEventId: null, incidentTimer: null,
};

const { map, layers } = createMap($("map"), { tileUrl: config.tileUrl, attribution: config.tileAttribution, area: config.area });
window.rescueMap = map; // for browser tests and the devtools console
// routes on SVG (not the canvas used for the road network) so each is its own element with a class
const routeRenderer = L.svg({ padding: 0.5 });
const overlay = {
  incidents: L.layerGroup().addTo(map), past: L.layerGroup().addTo(map), pending: L.layerGroup().addTo(map), routes: L.layerGroup().addTo(map),
  closures: L.layerGroup().addTo(map), coverage: L.layerGroup().addTo(map),
};

// ---------------------------------------------------------------- reference data
async function loadReference() {
  const [types, caps] = await Promise.all([get("/incident-types?limit=500"), get("/capabilities?limit=500")]);
  state.types = types.items;
  for (const c of caps.items) state.capabilities.set(c.code, c.name);
  const typeSelect = $("type");
  for (const t of state.types) typeSelect.append(el("option", { value: t.code }, t.name));
  const levelSelect = $("level");
  for (const [value, name] of config.levels) levelSelect.append(el("option", { value }, name));
  const covSelect = $("coverage-capability");
  for (const [code, name] of state.capabilities) covSelect.append(el("option", { value: code }, name));
}

const capName = (code) => state.capabilities.get(code) || code;
const needName = (need) => need.name || capName(need.capability) || need.supply_code || "";

// ---------------------------------------------------------------- incident list (polled)
async function loadIncidents() {
  try {
    const data = await get("/incidents?status=open&limit=100");
    state.incidents = data.items || [];
  } catch (err) {
    $("incident-list").replaceChildren(el("li", { class: "muted" }, `无法加载事件: ${err.message}`));
    return;
  }
  renderIncidents();
}

function renderIncidents() {
  const list = $("incident-list");
  $("incident-count").textContent = `(${state.incidents.length})`;
  overlay.incidents.clearLayers();
  if (!state.incidents.length) {
    list.replaceChildren(el("li", { class: "muted" }, "暂无处置中的事件"));
    return;
  }
  list.replaceChildren(...state.incidents.map((inc) => {
    const item = el("li", { class: inc.id === state.selected?.id ? "selected" : "", dataset: { id: inc.id } },
      el("button", { type: "button", class: "incident-item", onclick: () => selectIncident(inc.id) },
        inc.drill ? el("span", { class: "tag drill" }, "演练") : null,
        el("strong", {}, typeName(inc)), " ", el("span", { class: `tag level-${inc.level}` }, LEVELS[inc.level] || inc.level),
        el("br"), el("span", { class: "muted small" }, `${inc.number || "#" + inc.id} · ${inc.place || ""} · ${clock(inc.created_at)}`)));
    return item;
  }));
  for (const inc of state.incidents) {
    // bubblingMouseEvents: a click on an incident selects it and must not also place a new incident there
    L.circleMarker([inc.lat, inc.lon], { radius: 9, color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.9, bubblingMouseEvents: false })
      .bindTooltip(textTip(`${typeName(inc)} ${inc.number || ""}`)).on("click", () => selectIncident(inc.id)).addTo(overlay.incidents);
  }
}

// today's times by the clock; older ones (a closed incident's) with their date
function when(iso) {
  const day = beijing(iso).slice(0, 10);
  return day && day !== beijing(new Date()).slice(0, 10) ? `${day} ${clock(iso)}` : clock(iso);
}

// a closed incident from the list under the open ones opens in place (its link reloads the page without script)
for (const link of document.querySelectorAll("#closed-list [data-incident]")) {
  link.addEventListener("click", (e) => { e.preventDefault(); selectIncident(Number(link.dataset.incident)); });
}

function typeName(inc) {
  return inc.type_name || state.types.find((t) => t.code === inc.type)?.name || inc.type || "事件";
}

// ---------------------------------------------------------------- placing a new incident
map.on("click", (e) => {
  $("crs").value = "wgs84";
  setPending(e.latlng.lat, e.latlng.lng, "地图点选");
});

function setPending(lat, lon, note) {
  state.pending = { lat, lon };
  $("lat").value = lat.toFixed(5);
  $("lon").value = lon.toFixed(5);
  $("crs-note").textContent = note || "";
  overlay.pending.clearLayers();
  L.marker([lat, lon], { title: "事发地点" }).addTo(overlay.pending);
}

$("place-search").addEventListener("click", () => searchPlace());
$("place-q").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); searchPlace(); } });
$("place-q").addEventListener("input", () => { state.placeChosen = null; });

const PLACE_KINDS = { key_site: "重点园区/矿区", prefecture_city: "地级市", county: "县区", town: "乡镇" };
const PLACE_PAGE = 20;

// every place matching the name, key sites first, one page at a time; the dispatcher chooses one
async function searchPlace(offset = 0) {
  const q = $("place-q").value.trim();
  const results = $("place-results");
  if (!q) return [];
  try {
    const data = await get(`/places?q=${encodeURIComponent(q)}&limit=${PLACE_PAGE}&offset=${offset}`);
    const items = data.items || [];
    if (!items.length) { results.replaceChildren(el("li", { class: "muted" }, "未找到该地名")); return items; }
    const rows = items.map((p) => el("li", {}, el("button", { type: "button", class: "link place-choice", dataset: { name: p.name }, onclick: () => choosePlace(p) },
      p.name), " ", el("span", { class: "muted small" }, [PLACE_KINDS[p.kind] || "", p.county && p.county !== p.name ? p.county : "", p.prefecture && p.prefecture !== p.county ? p.prefecture : ""].filter(Boolean).join(" · "))));
    const head = el("li", { class: "muted small" }, `共 ${data.total} 个地点${data.total > 1 ? ", 请选择" : ""}`);
    const more = offset + items.length < data.total
      ? el("li", {}, el("button", { type: "button", class: "small", onclick: () => searchPlace(offset + PLACE_PAGE) }, "下一页")) : null;
    const back = offset > 0 ? el("li", {}, el("button", { type: "button", class: "small", onclick: () => searchPlace(Math.max(offset - PLACE_PAGE, 0)) }, "上一页")) : null;
    results.replaceChildren(...[head, ...rows, back, more].filter(Boolean));
    return items;
  } catch (err) {
    results.replaceChildren(el("li", { class: "muted" }, `地名搜索不可用: ${err.message}`));
    return [];
  }
}

function choosePlace(p) {
  $("place-q").value = p.name;
  state.placeChosen = p.name;
  $("crs").value = "wgs84";
  setPending(p.lat, p.lon, `地名: ${p.name}${p.county && p.county !== p.name ? " (" + p.county + ")" : ""}`);
  map.setView([p.lat, p.lon], Math.max(map.getZoom(), 10));
  $("place-results").replaceChildren();
}

for (const id of ["lat", "lon", "crs"]) $(id).addEventListener("change", typedCoordinates);

function typedCoordinates() {
  const lat = parseFloat($("lat").value), lon = parseFloat($("lon").value);
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return;
  const gcj = $("crs").value === "gcj02";
  // GCJ-02 is converted to WGS-84 by the server when the incident is created; the marker is approximate until then
  setPending(lat, lon, gcj ? "GCJ-02 坐标 (创建时换算为 WGS-84, 偏差约 0.3–0.6 km)" : "输入坐标 (WGS-84)");
  map.setView([lat, lon], Math.max(map.getZoom(), 9));
}

$("type").addEventListener("change", () => {
  const type = state.types.find((t) => t.code === $("type").value);
  $("needs-editor").replaceChildren();
  for (const r of type?.requirements || []) addNeedRow(r.capability, r.quantity, r.unit);
  state.needsEdited = false; // unedited: the server applies the full template (supplies included)
});
$("add-need").addEventListener("click", () => { addNeedRow("", 1); state.needsEdited = true; });
$("needs-editor").addEventListener("change", () => { state.needsEdited = true; });

function addNeedRow(capability, quantity, unit) {
  const select = el("select", { class: "need-capability", "aria-label": "能力" }, el("option", { value: "" }, "选择能力"),
    [...state.capabilities].map(([code, name]) => el("option", { value: code, selected: code === capability }, name)));
  const row = el("div", { class: "need-row", dataset: { unit: unit || "" } }, select,
    el("input", { class: "need-quantity narrow", type: "number", min: 1, step: 1, value: quantity || 1, "aria-label": "数量" }),
    el("button", { type: "button", class: "small", title: "删除", onclick: () => { row.remove(); state.needsEdited = true; } }, "×"));
  $("needs-editor").append(row);
}

$("incident-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  clearFieldErrors(form);
  $("incident-error").hidden = true;
  const needs = [...document.querySelectorAll(".need-row")].map((row) => ({
    capability: row.querySelector(".need-capability").value,
    quantity: Number(row.querySelector(".need-quantity").value || 1),
    ...(row.dataset.unit ? { unit: row.dataset.unit } : {}),
  })).filter((n) => n.capability);
  const body = { type: $("type").value, level: $("level").value, description: $("description").value.trim() };
  if (state.needsEdited) body.needs = needs;
  if ($("drill").checked) body.drill = true;
  const place = $("place-q").value.trim();
  if (place && !$("lat").value && !$("lon").value && state.placeChosen !== place) {
    // a typed name without a chosen match: ask which place is meant rather than guess one kilometres away
    const found = await searchPlace();
    const exact = found.filter((p) => p.name === place);
    if (found.length === 1 || exact.length === 1) {
      choosePlace(exact[0] || found[0]);
    } else {
      const reason = found.length ? `「${place}」对应多个地点, 请在列表中选择一个` : `未找到「${place}」, 请换个地名或在地图上点选`;
      // every problem at once: the type is checked here too rather than in a second round
      showFieldErrors(form, { fields: { place: reason, ...($("type").value ? {} : { type: "请选择事件类型" }) } });
      $("place-q").focus();
      return;
    }
  }
  if (place) body.place = place;
  if ($("lat").value || $("lon").value) { body.lat = Number($("lat").value); body.lon = Number($("lon").value); }
  if (body.lat !== undefined) body.crs = $("crs").value;
  $("create-incident").disabled = true;
  try {
    const inc = await post("/incidents", body);
    overlay.pending.clearLayers();
    state.pending = null;
    form.reset();
    $("needs-editor").replaceChildren();
    await loadIncidents();
    await selectIncident(inc.id);
  } catch (err) {
    const unplaced = err instanceof ApiError ? showFieldErrors(form, err) : [];
    $("incident-error").textContent = [err.message, ...unplaced].join("; ");
    $("incident-error").hidden = false;
  } finally {
    $("create-incident").disabled = false;
  }
});

// ---------------------------------------------------------------- one incident: candidates, plan, dispatch
async function selectIncident(id) {
  let inc = state.incidents.find((i) => i.id === id);
  try { inc = await get(`/incidents/${id}`); } catch { /* the list row is enough */ }
  if (!inc) return;
  state.selected = inc;
  state.chosen.clear();
  state.lastEventId = null;
  renderIncidents();
  const closed = inc.status === "closed";
  for (const li of document.querySelectorAll("#closed-list li[data-id]")) li.classList.toggle("selected", Number(li.dataset.id) === inc.id);
  overlay.past.clearLayers();
  if (closed) {
    L.circleMarker([inc.lat, inc.lon], { radius: 9, color: "#455a64", weight: 2, fillColor: "#90a4ae", fillOpacity: 0.9, bubblingMouseEvents: false })
      .bindTooltip(textTip(`${typeName(inc)} ${inc.number || ""} (已结案)`)).addTo(overlay.past);
  }
  $("incident-empty").hidden = true;
  $("incident-detail").hidden = false;
  $("incident-drill").hidden = !inc.drill;
  if (inc.drill) $("drill-banner").hidden = false;
  $("incident-title").textContent = `${typeName(inc)} · ${LEVELS[inc.level] || inc.level}`;
  $("incident-meta").textContent = `${inc.number || "#" + inc.id} · ${inc.place || ""} (${Number(inc.lat).toFixed(4)}, ${Number(inc.lon).toFixed(4)})` +
    (closed ? ` · ${beijing(inc.created_at)} 创建, ${beijing(inc.closed_at)} 结案` : "");
  for (const id of ["plan-button", "dispatch-button"]) $(id).hidden = closed;
  $("plan-summary").textContent = "";
  $("dispatch-error").hidden = true;
  $("record-link").href = `/console/incidents/${encodeURIComponent(inc.id)}/record`;
  $("assignment-counts").replaceChildren();
  map.setView([inc.lat, inc.lon], Math.max(map.getZoom(), 9));
  $("candidates").replaceChildren(el("p", { class: "muted" }, "正在计算到达时间…"));
  $("timeline").replaceChildren();
  $("assignments").replaceChildren();
  startTimeline();
  if (closed) {
    // history: nothing more to rank or dispatch, and nothing changes any more
    clearInterval(state.timelineTimer);
    $("candidates").replaceChildren(el("p", { class: "muted closed-note" }, `事件已于 ${beijing(inc.closed_at)} 结案, 不再调派。时间线和调派记录供复盘。`));
    return;
  }
  try {
    state.candidates = await get(`/incidents/${id}/candidates?k=5`);
    renderCandidates();
  } catch (err) {
    $("candidates").replaceChildren(el("p", { class: "form-error" }, `无法获取推荐资源: ${err.message}`));
  }
}

function candidateKey(c) { return `${c.kind}:${c.id}`; }

function renderCandidates() {
  overlay.routes.clearLayers();
  const needs = state.candidates?.needs || [];
  const blocks = needs.map((need, i) => {
    const color = NEED_COLORS[i % NEED_COLORS.length];
    const cands = need.candidates || [];
    const rows = cands.map((c, rank) => {
      const key = candidateKey(c);
      const box = el("input", { type: "checkbox", "aria-label": `选择 ${c.name}`, checked: state.chosen.has(key),
        onchange: (e) => { if (e.target.checked) state.chosen.set(key, { kind: c.kind, id: c.id, need_id: need.need_id }); else state.chosen.delete(key); } });
      const line = routeLatLngs(c.route);
      if (line.length) {
        L.polyline(line, { renderer: routeRenderer, className: `route route-${c.kind}`, color, weight: rank === 0 ? 5 : 3,
          opacity: rank === 0 ? 0.9 : 0.45, dashArray: rank === 0 ? null : "6 6" })
          .bindTooltip(textTip(`${needName(need)}: ${c.name} ${minutes(c.eta_s)}`)).addTo(overlay.routes);
      }
      if (line.length && !Array.isArray(line[0][0])) {
        // the route starts where the resource is
        L.circleMarker(line[0], { radius: 5, color, weight: 2, fillColor: "#fff", fillOpacity: 1 }).bindTooltip(textTip(c.name)).addTo(overlay.routes);
      }
      return el("tr", { class: "candidate", dataset: { kind: c.kind, id: c.id } },
        el("td", {}, box), el("td", { class: "num" }, rank + 1),
        el("td", {}, el("strong", {}, c.name), c.stale ? el("span", { class: "tag warn", title: "数据长期未确认" }, "待核实") : null,
          c.declined ? el("span", { class: "tag warn", title: "已拒绝本事件的调派" }, "已拒绝") : null,
          (c.warnings || []).length ? el("span", { class: "tag warn", title: c.warnings.join("; ") }, "需越野/徒步接近") : null,
          el("br"), el("span", { class: "muted small" }, [c.owner, c.via ? "经" + c.via : "", c.remote ? "远程" : ""].filter(Boolean).join(" · ")),
          c.reasons?.length ? el("div", { class: "reasons small muted" }, c.reasons.join("; ")) : null),
        el("td", { class: "num eta", title: `出动 ${minutes(c.turnout_s)} + 路程 ${minutes(c.travel_s)}` }, minutes(c.eta_s)),
        el("td", { class: "num" }, km(c.distance_m)));
    });
    const supply = cands.reduce((sum, c) => sum + (c.amount ?? 1), 0);
    return el("div", { class: "need-block", dataset: { needId: need.need_id } },
      el("h4", {}, el("span", { class: "swatch", style: { background: color } }), `${needName(need)} × ${need.quantity ?? 1}`,
        need.covered_eta_s != null ? el("span", { class: "muted small" }, `满足约 ${minutes(need.covered_eta_s)}`) : null,
        need.dispatched ? el("span", { class: "tag ok" }, need.dispatched) : null,
        !cands.length && need.empty_reason ? el("span", { class: "tag warn", title: need.empty_reason }, "无可用资源")
          : cands.length && supply < (need.quantity ?? 1) - (need.assigned || 0) ? el("span", { class: "tag warn" }, "不足") : null),
      !cands.length && need.empty_reason ? el("p", { class: "small muted empty-reason" }, need.empty_reason) : null,
      cands.length ? el("table", { class: "data compact" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "选择")), el("th", { scope: "col" }, "#"), el("th", {}, "资源"), el("th", {}, "预计到达"), el("th", {}, "距离"))),
        el("tbody", {}, rows)) : null);
  });
  const warnings = (state.candidates?.warnings || []).map((w) => el("p", { class: "form-error small scene-warning" }, w));
  $("candidates").replaceChildren(...warnings, ...(blocks.length ? blocks : [el("p", { class: "muted" }, "此事件没有需求")]));
  const all = overlay.routes.getLayers().filter((l) => l.getBounds);
  if (all.length) map.fitBounds(L.featureGroup(all).getBounds().extend([state.selected.lat, state.selected.lon]), { padding: [30, 30], maxZoom: 11 });
}

$("plan-button").addEventListener("click", async () => {
  if (!state.selected) return;
  try {
    const plan = await post(`/incidents/${state.selected.id}/plan`);
    state.chosen.clear();
    const picked = plan.assignments || [];
    for (const r of picked) state.chosen.set(candidateKey(r), { kind: r.kind, id: r.id, need_id: r.need_id, quantity: r.quantity });
    renderCandidates();
    const missing = plan.uncovered || [];
    $("plan-summary").textContent = `方案: ${picked.length} 个资源, 全部到达约 ${minutes(plan.makespan_s)}` +
      (missing.length ? `; 未覆盖: ${missing.map((m) => `${capName(m.capability || m.supply_code)} 缺 ${m.shortfall}`).join("、")}` : "; 覆盖全部需求");
  } catch (err) {
    $("plan-summary").textContent = `无法生成方案: ${err.message}`;
  }
});

$("dispatch-button").addEventListener("click", async () => {
  if (!state.selected) return;
  const button = $("dispatch-button");
  button.disabled = true;
  $("dispatch-error").hidden = true;
  const body = state.chosen.size ? { resources: [...state.chosen.values()] } : {};
  try {
    // what will be sent, to whom: the dispatcher confirms before any SMS leaves
    const preview = await post(`/incidents/${state.selected.id}/dispatches/preview`, body);
    if (!(await window.rescueConfirm(dispatchSummary(preview), { title: "确认调派", ok: "确认调派并发送短信" }))) return;
    const dispatch = await post(`/incidents/${state.selected.id}/dispatches`, body);
    $("plan-summary").textContent = `已调派 ${dispatch.assignments.length} 个资源, 短信发送中`;
    state.chosen.clear();
    renderCandidates();
    await refreshTimeline();
    $("assignments").scrollIntoView({ block: "start", behavior: "smooth" });
  } catch (err) {
    const details = Object.entries(err.fields || {}).map(([k, v]) => `${k}: ${v}`);
    $("dispatch-error").textContent = [err.message, ...details].join("; ");
    $("dispatch-error").hidden = false;
  } finally {
    button.disabled = false;
  }
});

function dispatchSummary(preview) {
  const rows = preview.assignments || [];
  const messages = rows.flatMap((a) => a.messages || []);
  const segments = messages.reduce((n, m) => n + (m.segments || 1), 0);
  const lines = [`${typeName(state.selected)} ${state.selected.number || ""}: 调派 ${rows.length} 个资源, 发送 ${messages.length} 条短信 (计费 ${segments} 条)${state.selected.drill ? ", 【演练】" : ""}:`];
  for (const a of rows) {
    const to = (a.messages || []).map((m) => `${m.recipient || ""} ${phone(m.to)}`.trim()).join("、") || "无可接收短信的号码";
    lines.push(`· ${a.name}${a.eta_s != null ? ` (约 ${minutes(a.eta_s)})` : ""} → ${to}`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------- live timeline and assignments (polled)
function startTimeline() {
  clearInterval(state.timelineTimer);
  refreshTimeline();
  state.timelineTimer = setInterval(refreshTimeline, config.pollMs);
}

async function refreshTimeline() {
  const inc = state.selected;
  if (!inc) return;
  try {
    const [timeline, dispatches] = await Promise.all([get(`/incidents/${inc.id}/timeline`), get(`/incidents/${inc.id}/dispatches`)]);
    if (state.selected?.id !== inc.id) return;
    renderTimeline(timeline.items || []);
    renderAssignments(dispatches.items || []);
    $("timeline-updated").textContent = `更新于 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
  } catch (err) {
    $("timeline-updated").textContent = `更新失败: ${err.message}`;
  }
}

function renderTimeline(events) {
  const last = events.length ? events[events.length - 1].id : null;
  if (last === state.lastEventId && $("timeline").children.length) return;
  state.lastEventId = last;
  $("timeline").replaceChildren(...events.slice().reverse().map((e) => {
    const status = e.to_status || e.kind;
    const label = (e.to_status && config.statuses[e.to_status]) || EVENT_NAMES[e.kind] || config.statuses[status] || "其他";
    return el("li", { class: `event status-${status} kind-${e.kind}`, dataset: { kind: e.kind, status: status || "" } },
      el("time", {}, when(e.at)), " ", el("span", { class: "tag" }, label), " ",
      e.detail && CHANNEL_NAMES[e.detail.channel] ? el("span", { class: `tag channel-${e.detail.channel}` }, CHANNEL_NAMES[e.detail.channel]) : null, " ",
      e.resource ? el("strong", {}, e.resource) : null, e.message ? ` ${e.message}` : "", e.actor && e.actor !== "system" ? el("span", { class: "muted small" }, ` (${e.actor})`) : null);
  }));
}

const CORRECTABLE = ["accepted", "declined", "no_answer", "failed", "en_route", "on_scene", "released", "cancelled"];

const COUNTED = [["notified", "已通知"], ["accepted", "已接受"], ["en_route", "途中"], ["on_scene", "到场"]];
// an assignment that got further than a stage has passed it (an arrived team was also notified and accepted)
const REACHED = { notified: ["notified", "accepted", "en_route", "on_scene", "released"], accepted: ["accepted", "en_route", "on_scene", "released"],
  en_route: ["en_route", "on_scene"], on_scene: ["on_scene"] };
// a released one went as far as it got: to the scene if it arrived (an expert consulted by phone never did)
const reached = (a, key) => REACHED[key].includes(a.status) || (a.status === "released" && a.on_scene_at != null);

function renderAssignments(dispatches) {
  const rows = dispatches.flatMap((d) => d.assignments || []);
  $("assignment-counts").replaceChildren(...(rows.length ? COUNTED.map(([key, label]) => {
    const n = rows.filter((a) => reached(a, key)).length;
    return el("span", { class: `counter counter-${key}`, dataset: { key, n } }, label, " ", el("strong", {}, n), ` / ${rows.length}`);
  }) : []));
  if (!rows.length) { $("assignments").replaceChildren(el("p", { class: "muted" }, "尚未调派")); return; }
  const focused = document.activeElement?.closest?.("#assignments");
  if (focused) return; // do not redraw under the dispatcher's hand
  $("assignments").replaceChildren(el("table", { class: "data compact" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "资源"), el("th", { scope: "col" }, "状态"), el("th", { scope: "col" }, "预计到达"),
      el("th", { scope: "col" }, "联系人"), el("th", { scope: "col" }, "通知与确认"), el("th", { scope: "col" }, "回复码"), el("th", { scope: "col" }, "更正"))),
    el("tbody", {}, rows.map((a) => {
      const select = el("select", { "aria-label": `更正 ${a.name}` }, el("option", { value: "" }, "更正为…"),
        CORRECTABLE.map((s) => el("option", { value: s }, config.statuses[s] || s)));
      select.disabled = state.selected?.status === "closed"; // a closed incident's record is history
      select.addEventListener("change", async () => {
        if (!select.value) return;
        try {
          await patch(`/assignments/${a.id}`, { status: select.value, note: "调度员更正" });
        } catch (err) {
          alertInline(err.message);
        }
        select.blur();
        refreshTimeline();
      });
      const message = (a.messages || [])[0];
      const eta = a.reported_eta_min != null ? `${a.reported_eta_min} 分钟 (回报)` : minutes(a.eta_s);
      return el("tr", { class: `assignment status-${a.status}`, dataset: { status: a.status } },
        el("td", {}, a.name, a.wave > 1 ? el("span", { class: "muted small" }, ` 第${a.wave}轮`) : null),
        el("td", {}, el("span", { class: `tag status-${a.status}` }, config.statuses[a.status] || a.status)),
        el("td", { class: "num eta" }, eta),
        el("td", { class: "contact" }, message ? [message.recipient || "", " ", telLink(message.to)] : "—"),
        channelCell(a), el("td", {}, el("code", {}, a.reply_code || "")), el("td", {}, select));
    }))));
}

function alertInline(message) {
  $("dispatch-error").textContent = message;
  $("dispatch-error").hidden = false;
}

// ---------------------------------------------------------------- road closures and coverage
async function loadClosures() {
  overlay.closures.clearLayers();
  if (!$("show-closures").checked) return;
  try {
    const data = await get("/road-closures?active=1");
    for (const c of data.items || []) {
      const label = `${c.kind_name || "道路封闭"}: ${c.reason || ""} (封闭道路 ${((c.closed_m || 0) / 1000).toFixed(1)} km)`;
      closedStretches(c, routeRenderer).bindTooltip(textTip(label)).addTo(overlay.closures);
      if (c.polygon) {
        L.polygon(c.polygon[0].map(([lon, lat]) => [lat, lon]), { color: "#c62828", weight: 2, fillOpacity: 0.2 }).bindTooltip(textTip(label)).addTo(overlay.closures);
      } else if (typeof c.lat === "number") {
        L.circle([c.lat, c.lon], { radius: c.radius_m || 200, color: "#c62828", weight: 2, fillOpacity: 0.25 }).bindTooltip(textTip(label)).addTo(overlay.closures);
      }
    }
  } catch { /* closures are optional on the map */ }
}
$("show-closures").addEventListener("change", loadClosures);

$("coverage-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  overlay.coverage.clearLayers();
  const cap = $("coverage-capability").value, mins = Number($("coverage-minutes").value || 60);
  $("coverage-summary").textContent = "计算中…";
  try {
    const data = await get(`/coverage?capability=${encodeURIComponent(cap)}&minutes=${mins}`);
    const summary = drawCoverage(overlay.coverage, data, mins);
    $("coverage-summary").textContent = summary;
  } catch (err) {
    $("coverage-summary").textContent = `覆盖分析不可用: ${err.message}`;
  }
});
$("coverage-clear").addEventListener("click", () => { overlay.coverage.clearLayers(); $("coverage-summary").textContent = ""; });

// a place's arrival time and the resource that would arrive first
function coverageTip(p) {
  return textTip(`${p.name} ${p.arrival_s != null ? minutes(p.arrival_s) : "不可达"}${p.source?.name ? ` · 最近: ${p.source.name}` : ""}`);
}

function drawCoverage(group, data, mins) {
  for (const p of data.items || []) {
    L.circleMarker([p.lat, p.lon], { radius: 6, color: p.met ? "#2e7d32" : "#c62828", fillColor: p.met ? "#66bb6a" : "#ef5350", fillOpacity: 0.85 })
      .bindTooltip(coverageTip(p)).addTo(group);
  }
  return `${data.met + data.missed} 个地点, ${data.missed} 个在 ${mins} 分钟内无法覆盖`;
}

// ---------------------------------------------------------------- start
await loadReference().catch((err) => { $("incident-error").textContent = `加载参考数据失败: ${err.message}`; $("incident-error").hidden = false; });
await loadIncidents();
loadClosures();
state.incidentTimer = setInterval(loadIncidents, Math.max(config.pollMs * 3, 5000));
const wanted = Number(new URLSearchParams(location.search).get("incident"));
if (wanted) selectIncident(wanted);
