// The base map: our own road network and county seats (works offline); an optional tile layer from config.
import { el, get } from "./api.js";

const L = window.L;

// Tooltip content built as DOM text: Leaflet sets a string tooltip (and attribution) as HTML, so user text
// such as a team's name must never reach bindTooltip/bindPopup as a string.
export function textTip(...parts) {
  return () => el("span", {}, ...parts);
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export function createMap(element, { tileUrl = "", attribution = "", area = [34.8, 103.6, 39.9, 108.2] } = {}) {
  const map = L.map(element, { preferCanvas: true, zoomSnap: 0.5, attributionControl: true });
  // Ningxia proper, inside the wider service area
  map.fitBounds([[35.2, 104.2], [39.4, 107.7]]);
  map.setMaxBounds([[area[0] - 1, area[1] - 1], [area[2] + 1, area[3] + 1]]);
  if (tileUrl) {
    L.tileLayer(tileUrl, { attribution: escapeHtml(attribution), maxZoom: 18 }).addTo(map);  // shown as text
  }
  map.attributionControl.addAttribution("道路 © OpenStreetMap contributors (ODbL)");
  const layers = { roads: L.layerGroup().addTo(map), places: L.layerGroup().addTo(map) };
  loadRoads(layers.roads).catch(() => {});
  loadPlaces(layers.places).catch(() => {});
  return { map, layers };
}

async function loadRoads(group) {
  const data = await get("/roads.geojson");
  L.geoJSON(data, {
    style: (f) => ({ color: roadColor(f.properties || {}), weight: roadWeight(f.properties || {}), opacity: 0.8 }),
    interactive: false,
  }).addTo(group);
}

function roadColor(p) {
  const cls = p.class || p.highway || p.road_class || "";
  if (/motorway|expressway|高速/.test(cls)) return "#d9822b";
  if (/trunk|national|国道/.test(cls)) return "#c9a227";
  return "#8a8f98";
}

function roadWeight(p) {
  const cls = p.class || p.highway || p.road_class || "";
  return /motorway|expressway|trunk|高速|国道/.test(cls) ? 2.5 : 1.5;
}

async function loadPlaces(group) {
  const data = await get("/places?limit=50");
  const items = Array.isArray(data) ? data : data.items || data.places || [];
  for (const p of items) {
    if (typeof p.lat !== "number" || typeof p.lon !== "number") continue;
    const seat = (p.kind || p.type || "") !== "site";
    L.circleMarker([p.lat, p.lon], { radius: seat ? 4 : 3, color: "#37474f", weight: 1, fillColor: seat ? "#fff" : "#90a4ae", fillOpacity: 1, interactive: true })
      .bindTooltip(textTip(p.name || ""), { direction: "top" })
      .addTo(group);
  }
}

export function routeLatLngs(route) {
  // a GeoJSON LineString (or Feature) → Leaflet [lat, lon] pairs
  const geom = route && route.type === "Feature" ? route.geometry : route;
  if (!geom || !Array.isArray(geom.coordinates)) return [];
  if (geom.type === "MultiLineString") return geom.coordinates.map((line) => line.map(([lon, lat]) => [lat, lon]));
  return geom.coordinates.map(([lon, lat]) => [lat, lon]);
}

/** The closed stretches of a closure (GeoJSON MultiLineString) as lines: 道路中断 solid red, 交通管制 dashed orange.
 * ``renderer``: an L.svg() of the page, so each stretch is an element with a class (the map itself draws on canvas). */
export function closedStretches(closure, renderer, L = window.L) {
  const lines = (closure.closed?.coordinates || []).map((line) => line.map(([lon, lat]) => [lat, lon]));
  const impassable = closure.kind !== "traffic_control";
  return L.polyline(lines, { renderer, color: impassable ? "#b71c1c" : "#ef6c00", weight: 6, opacity: 0.9,
    dashArray: impassable ? null : "8 6", className: `closed-road closed-${closure.kind || "impassable"}` });
}
