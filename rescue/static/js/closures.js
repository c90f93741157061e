// Road closures page: draw the closure on the map (a centre point and radius, or a polygon) into the form fields.
import { closedStretches, createMap, textTip } from "./map.js";

const L = window.L;
const $ = (id) => document.getElementById(id);
const config = JSON.parse($("closures-config").textContent);
const { map } = createMap($("closure-map"), { tileUrl: config.tileUrl, attribution: config.tileAttribution, area: config.area });
const existing = L.layerGroup().addTo(map);
const svg = L.svg();
const drawn = L.layerGroup().addTo(map);
const style = { color: "#c62828", weight: 2, fillOpacity: 0.2 };
const draft = { color: "#1565c0", weight: 2, fillOpacity: 0.15, dashArray: "4 4" };
let vertices = [];

for (const c of config.closures) {
  const layer = c.polygon ? L.polygon(c.polygon[0].map(([lon, lat]) => [lat, lon]), style)
    : L.circle([c.lat, c.lon], { ...style, radius: c.radius_m || 200 });
  layer.bindTooltip(textTip(`${c.kind_name || "道路封闭"}: ${c.reason}`)).addTo(existing);
  closedStretches(c, svg).bindTooltip(textTip(`${c.kind_name || "道路封闭"}: ${c.reason} (封闭道路 ${((c.closed_m || 0) / 1000).toFixed(1)} km)`)).addTo(existing);
}

const shape = () => document.querySelector('input[name="shape"]:checked').value;

function redraw() {
  drawn.clearLayers();
  const status = $("draw-status");
  if (shape() === "point") {
    const lat = parseFloat($("c-lat").value), lon = parseFloat($("c-lon").value), r = parseFloat($("c-radius").value);
    if (Number.isFinite(lat) && Number.isFinite(lon)) {
      L.circle([lat, lon], { ...draft, radius: Number.isFinite(r) && r > 0 ? r : 1 }).addTo(drawn);
      status.textContent = `中心 ${lat.toFixed(4)}, ${lon.toFixed(4)}`;
    } else {
      status.textContent = "在地图上点击封闭中心";
    }
    $("c-polygon").value = "";
  } else {
    vertices.forEach((v) => L.circleMarker(v, { radius: 4, color: "#1565c0" }).addTo(drawn));
    if (vertices.length >= 2) L.polygon(vertices, draft).addTo(drawn);
    status.textContent = vertices.length >= 3 ? `已画 ${vertices.length} 个顶点` : `已画 ${vertices.length} 个顶点 (至少 3 个)`;
    $("c-polygon").value = vertices.length ? JSON.stringify({ type: "Polygon",
      coordinates: [[...vertices, vertices[0]].map((v) => [+v.lng.toFixed(6), +v.lat.toFixed(6)])] }) : "";
  }
}

map.on("click", (e) => {
  if (shape() === "point") {
    $("c-lat").value = e.latlng.lat.toFixed(5);
    $("c-lon").value = e.latlng.lng.toFixed(5);
  } else {
    vertices.push(e.latlng);
  }
  redraw();
});
for (const input of document.querySelectorAll('input[name="shape"]')) input.addEventListener("change", redraw);
for (const id of ["c-lat", "c-lon", "c-radius"]) $(id).addEventListener("input", redraw);
$("clear-shape").addEventListener("click", () => {
  vertices = [];
  $("c-lat").value = "";
  $("c-lon").value = "";
  redraw();
});

// a polygon sent back with an error is drawn again
try {
  const kept = JSON.parse($("c-polygon").value || "null");
  if (kept && kept.coordinates) vertices = kept.coordinates[0].slice(0, -1).map(([lon, lat]) => L.latLng(lat, lon));
} catch { /* nothing to restore */ }
redraw();
