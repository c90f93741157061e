// The base map: our own road network and the gazetteer's places with their names (works offline); an optional
// tile layer from config, dropped with one notice when it cannot be reached.
import { el, get } from "./api.js";

const L = window.L;

// Tooltip content built as DOM text: Leaflet sets a string tooltip (and attribution) as HTML, so user text
// such as a team's name must never reach bindTooltip/bindPopup as a string.
export function textTip(...parts) {
  return () => el("span", {}, ...parts);
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// From which zoom a place's name may be written, and in which order names claim their space: prefecture cities
// (five, far apart, for orientation), then key sites (chemical parks, mines), county seats, towns. A name that would
// overlap one already written is moved to the other side of its dot, above or below it, or left out at that zoom.
const LABEL_ZOOM = { prefecture_city: 6, key_site: 6, county: 7, town: 9 };
const LABEL_PRIORITY = { prefecture_city: 0, key_site: 1, county: 2, town: 3 };
const FULL_NAME_ZOOM = 10;  // below it a key site is written without its bracketed details
const LABEL_GAP = 3;  // px between a dot and its name, besides Leaflet's own margin
const LABEL_SIDES = [
  ["right", [LABEL_GAP, 0]], ["left", [-LABEL_GAP, 0]], ["top", [0, -LABEL_GAP]], ["bottom", [0, LABEL_GAP]],
];
const NINGXIA = [[35.2, 104.2], [39.4, 107.7]];

export function createMap(element, { tileUrl = "", attribution = "", area = [34.8, 103.6, 39.9, 108.2], legend = true } = {}) {
  const map = L.map(element, { preferCanvas: true, zoomSnap: 0.5, attributionControl: true, minZoom: 6, maxZoom: 16,
    maxBounds: [[area[0] - 0.5, area[1] - 0.5], [area[2] + 0.5, area[3] + 0.5]], maxBoundsViscosity: 0.9 });
  map.fitBounds(NINGXIA);  // Ningxia proper, inside the wider service area
  if (tileUrl) addTiles(map, tileUrl, attribution);
  map.attributionControl.addAttribution("道路 © OpenStreetMap contributors (ODbL)");
  const layers = { roads: L.layerGroup().addTo(map), places: L.layerGroup().addTo(map) };
  loadRoads(layers.roads).catch(() => {});
  loadPlaces(map, layers.places).catch(() => {});
  if (legend) addLegend(map);
  return { map, layers };
}

// One tile is tried first: an unreachable tile server then costs one failed request and one notice, not one
// console error per tile on every pan.
function addTiles(map, tileUrl, attribution) {
  const probe = new Image();
  const center = map.getCenter(), zoom = Math.round(map.getZoom());
  const point = map.project(center, zoom).divideBy(256).floor();
  probe.onload = () => L.tileLayer(tileUrl, { attribution: escapeHtml(attribution), maxZoom: 16 }).addTo(map);  // shown as text
  probe.onerror = () => {
    const notice = L.control({ position: "topright" });
    notice.onAdd = () => el("div", { class: "map-notice", role: "status" }, "在线底图无法访问, 已使用离线路网");
    notice.addTo(map);
  };
  probe.src = L.Util.template(tileUrl, { s: "a", x: point.x, y: point.y, z: zoom, r: "" });
}

async function loadRoads(group) {
  roadLayer(await get("/roads.geojson")).addTo(group);
}

/** The road network (GeoJSON from roads.geojson) as lines coloured by class, the same on every map. */
export function roadLayer(data, options = {}) {
  return L.geoJSON(data, {
    style: (f) => ({ color: roadColor(f.properties || {}), weight: roadWeight(f.properties || {}), opacity: 0.8 }),
    interactive: false,
    ...options,
  });
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

// every place of the gazetteer, its name shown from a zoom that suits its kind and where it overlaps no other name
async function loadPlaces(map, group) {
  const items = [];
  for (let offset = 0; offset < 5000; offset += 500) {
    const data = await get(`/places?limit=500&offset=${offset}`);
    items.push(...(data.items || []));
    if (items.length >= (data.total ?? 0) || !(data.items || []).length) break;
  }
  const labels = [];
  for (const p of items) {
    if (typeof p.lat !== "number" || typeof p.lon !== "number") continue;
    const site = p.kind === "key_site";
    const radius = p.kind === "prefecture_city" ? 5 : site ? 4 : 3;
    const marker = L.circleMarker([p.lat, p.lon], { radius, color: site ? "#6a1b9a" : "#37474f",
      weight: 1, fillColor: site ? "#ce93d8" : "#fff", fillOpacity: 1, interactive: false, bubblingMouseEvents: true }).addTo(group);
    const text = el("span", { dataset: { name: p.name || "" } }, p.name || "");  // DOM text, never HTML
    marker.bindTooltip(textTip(text), { permanent: true, direction: "right", offset: LABEL_SIDES[0][1],
      className: `place-label ${p.kind || ""}`, interactive: false });
    const short = (p.name || "").replace(/[(（][^)）]*[)）]/g, "").trim() || p.name || "";
    labels.push({ marker, text, full: p.name || "", short, radius, from: LABEL_ZOOM[p.kind] ?? 9,
      rank: LABEL_PRIORITY[p.kind] ?? 3, sizes: {} });
  }
  labels.sort((a, b) => a.rank - b.rank);  // stable: the gazetteer's own order (key sites first) within a rank
  const update = () => placeLabels(map, labels);
  map.on("zoomend", update);
  update();
}

// Greedy placement, highest priority first: each name takes the first side of its dot where its box overlaps no
// name already written (preferring a side that covers no other dot); a name with no such side is hidden.
// Leaflet 1.9 has no label collision of its own, so the boxes are computed here with its L.Bounds.
function placeLabels(map, labels) {
  const zoom = map.getZoom();
  const dots = labels.map(({ marker, radius }) => {
    const c = map.latLngToContainerPoint(marker.getLatLng());
    return L.bounds([c.x - radius, c.y - radius], [c.x + radius, c.y + radius]);
  });
  const written = [];
  labels.forEach((label, i) => {
    const { marker, text } = label;
    if (zoom < label.from) {
      marker.closeTooltip();
      return;
    }
    const wanted = zoom >= FULL_NAME_ZOOM ? label.full : label.short;
    if (text.textContent !== wanted) text.textContent = wanted;
    const tooltip = marker.getTooltip();
    if (!tooltip.isOpen()) marker.openTooltip();
    const node = tooltip.getElement();
    const size = (label.sizes[wanted] ??= [node.offsetWidth, node.offsetHeight]);
    const at = map.latLngToContainerPoint(marker.getLatLng());
    const boxes = LABEL_SIDES.map(([side, offset]) => [side, offset, labelBox(at, size, side, offset)]);
    const free = boxes.filter(([, , box]) => !written.some((w) => w.overlaps(box)));
    const clear = free.find(([, , box]) => !dots.some((d, j) => j !== i && d.overlaps(box)));
    const chosen = clear || free[0];
    if (!chosen) {
      marker.closeTooltip();
      return;
    }
    const [side, offset, box] = chosen;
    if (tooltip.options.direction !== side || text.dataset.shown !== wanted) {
      tooltip.options.direction = side;
      tooltip.options.offset = offset;
      text.dataset.shown = wanted;
      tooltip.update();
    }
    written.push(L.bounds(box.min.subtract([2, 1]), box.max.add([2, 1])));  // a little air between names
  });
}

// the box Leaflet's tooltip takes on the given side of a point: L.Tooltip._setPosition (anchor [0, 0]) plus the
// 6 px margin leaflet.css gives each side (room for the arrow, which place names hide)
const TOOLTIP_MARGIN = { right: [6, 0], left: [-6, 0], top: [0, -6], bottom: [0, 6] };

function labelBox(at, [w, h], side, [dx, dy]) {
  const sub = { right: [0, h / 2], left: [w, h / 2], top: [w / 2, h], bottom: [w / 2, 0] }[side];
  const [mx, my] = TOOLTIP_MARGIN[side];
  const x = at.x - sub[0] + dx + mx, y = at.y - sub[1] + dy + my;
  return L.bounds([x, y], [x + w, y + h]);
}

function addLegend(map) {
  const legend = L.control({ position: "bottomleft" });
  const row = (symbol, text) => el("div", { class: "legend-row" }, symbol, text);
  legend.onAdd = () => {
    const box = el("div", { class: "map-legend", role: "group", "aria-label": "图例" },
      el("strong", {}, "图例"),
      row(el("span", { class: "line motorway" }), "高速公路"),
      row(el("span", { class: "line trunk" }), "国道/干线"),
      row(el("span", { class: "line" }), "其他道路"),
      row(el("span", { class: "line route" }), "推荐路线 (第1名)"),
      row(el("span", { class: "line alt" }), "备选路线"),
      row(el("span", { class: "dot incident" }), "事件"),
      row(el("span", { class: "dot" }), "市、县城、乡镇"),
      row(el("span", { class: "dot site" }), "重点园区/矿区"),
      row(el("span", { class: "closure" }), "道路封闭"));
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  legend.addTo(map);
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
