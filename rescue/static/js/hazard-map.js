// The regulator's hazard source map: every major hazard source, the 一级/二级 ones without cover in the
// chosen time drawn large and red. Data comes from the page (a JSON block), names only ever as text.
import { createMap, textTip } from "./map.js";

const L = window.L;
const $ = (id) => document.getElementById(id);
const data = JSON.parse($("hazard-map-data").textContent);
const { map } = createMap($("hazard-map"), { tileUrl: data.tileUrl, attribution: data.tileAttribution });
window.rescueMap = map; // for browser tests and the devtools console
const layer = L.layerGroup().addTo(map);
const markers = {};

for (const s of data.items) {
  if (typeof s.lat !== "number" || typeof s.lon !== "number") continue;
  const style = s.gap
    ? { radius: 10, color: "#7f0000", weight: 2, fillColor: "#c62828", fillOpacity: 0.9 }
    : { radius: 6, color: "#0d47a1", weight: 1, fillColor: "#1565c0", fillOpacity: 0.7 };
  const missing = s.unmet_names.length ? ` · 时限内无人到达: ${s.unmet_names.join("、")}` : " · 时限内有覆盖";
  markers[s.id] = L.circleMarker([s.lat, s.lon], style)
    .bindTooltip(textTip(`${s.name} (${s.level_name})${missing}`), { direction: "top" })
    .addTo(layer);
  markers[s.id].options.gap = Boolean(s.gap);
}
window.hazardMarkers = markers; // for browser tests
