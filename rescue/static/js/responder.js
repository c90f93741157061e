// The responder page's route map: the offline road network, the incident, the starting point and the road route
// (no user text reaches HTML). The road network comes from the link's own address, so no sign-in is needed.
import { roadLayer } from "./map.js";

const L = window.L;
const holder = document.getElementById("route-map");
const source = document.getElementById("responder-map");
if (L && holder && source) {
  const config = JSON.parse(source.textContent);
  const map = L.map(holder, { zoomControl: true, attributionControl: true, minZoom: 6, maxZoom: 17 });
  window.responderMap = map; // for browser tests and the devtools console
  map.setMaxBounds([[34.3, 103.1], [40.4, 108.7]]);
  if (config.tileUrl) {
    const layer = L.tileLayer(config.tileUrl, { maxZoom: 17 });
    let failed = false;
    layer.on("tileerror", () => { if (!failed) { failed = true; map.removeLayer(layer); } });
    layer.addTo(map);
  }
  map.attributionControl.addAttribution("道路 © OpenStreetMap contributors (ODbL)");
  // the roads lie under the route and markers: a pane of their own, drawn on one canvas (thousands of lines)
  map.createPane("roads").style.zIndex = 350;
  if (config.roadsUrl) {
    fetch(config.roadsUrl, { credentials: "omit", headers: { Accept: "application/geo+json" } })
      .then((res) => (res.ok ? res.json() : null))
      .then((data) => { if (data) roadLayer(data, { pane: "roads", renderer: L.canvas({ pane: "roads" }) }).addTo(map); })
      .catch(() => {});  // without the network the route and markers still show
  }
  const incident = L.circleMarker(config.incident, { radius: 9, color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.9 }).addTo(map);
  const shapes = [incident];
  const route = config.route || {};
  if (route.from) shapes.push(L.circleMarker(route.from, { radius: 7, color: "#0d47a1", weight: 2, fillColor: "#fff", fillOpacity: 1 }).addTo(map));
  const geom = route.route && route.route.type === "Feature" ? route.route.geometry : route.route;
  if (geom && Array.isArray(geom.coordinates)) {
    const lines = geom.type === "MultiLineString" ? geom.coordinates : [geom.coordinates];
    for (const line of lines) shapes.push(L.polyline(line.map(([lon, lat]) => [lat, lon]), { color: "#1565c0", weight: 5, opacity: 0.85 }).addTo(map));
  }
  map.fitBounds(L.featureGroup(shapes).getBounds().pad(0.15), { maxZoom: 14 });
}
