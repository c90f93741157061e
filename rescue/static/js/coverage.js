// Coverage gaps: GET /api/v1/coverage for a capability and a target time, on the offline map.
import { el, get, minutes } from "./api.js";
import { createMap, textTip } from "./map.js";

const L = window.L;
const $ = (id) => document.getElementById(id);
const cfg = JSON.parse($("map-config").textContent);
const { map } = createMap($("map"), { tileUrl: cfg.tileUrl, attribution: cfg.tileAttribution });
window.rescueMap = map; // for browser tests and the devtools console
const layer = L.layerGroup().addTo(map);
const nearest = (p) => (p.source?.name ? ` · 最近: ${p.source.name}` : "");

const caps = await get("/capabilities?limit=500");
for (const c of caps.items) $("coverage-capability").append(el("option", { value: c.code }, c.name));

$("coverage-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  layer.clearLayers();
  const cap = $("coverage-capability").value, mins = Number($("coverage-minutes").value || 60);
  $("coverage-summary").textContent = "计算中…";
  try {
    const data = await get(`/coverage?capability=${encodeURIComponent(cap)}&minutes=${mins}`);
    const points = data.items || [];
    const gaps = [];
    for (const p of points) {
      if (!p.met) gaps.push(p);
      L.circleMarker([p.lat, p.lon], { radius: 6, color: p.met ? "#2e7d32" : "#c62828", fillColor: p.met ? "#66bb6a" : "#ef5350", fillOpacity: 0.85 })
        .bindTooltip(textTip(`${p.name} ${p.arrival_s != null ? minutes(p.arrival_s) : "不可达"}${nearest(p)}`)).addTo(layer);
    }
    $("coverage-summary").textContent = `${points.length} 个地点, ${gaps.length} 个在 ${mins} 分钟内无法覆盖`;
    $("gap-list").replaceChildren(...(gaps.length ? gaps.map((p) => el("li", {}, `${p.name} (${p.county}) — ${p.arrival_s != null ? "最快 " + minutes(p.arrival_s) : "不可达"}${nearest(p)}`))
      : [el("li", { class: "ok" }, "没有缺口")]));
  } catch (err) {
    $("coverage-summary").textContent = `覆盖分析不可用: ${err.message}`;
  }
});
