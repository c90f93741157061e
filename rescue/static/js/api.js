// JSON API calls from pages: session cookie + CSRF header; errors carry the API's `fields`.
const CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `请求失败 (${status})`);
    this.status = status;
    this.body = body || {};
    this.fields = (body && body.fields) || {};
  }
}

export async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") options.headers["X-CSRFToken"] = CSRF;
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const res = await fetch("/api/v1" + path, options);
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body ?? {});
export const patch = (path, body) => api("PATCH", path, body);

// build DOM from data without ever parsing it as HTML (the only way pages put data on screen)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    // through the CSSOM: a style attribute would be refused by the CSP (style-src 'self')
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return `${Math.round(seconds / 60)} 分钟`;
}

export function km(meters) {
  if (meters === null || meters === undefined) return "—";
  return `${(meters / 1000).toFixed(1)} km`;
}

export function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleTimeString("zh-CN", { hour12: false });
}

// show a 422's fields next to the inputs that have data-field="<name>"
export function showFieldErrors(form, error) {
  form.querySelectorAll(".error-text[data-generated]").forEach((n) => n.remove());
  form.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  const unplaced = [];
  for (const [name, reason] of Object.entries(error.fields || {})) {
    const top = name.split(".")[0];
    const holder = form.querySelector(`[data-field="${CSS.escape(top)}"]`);
    if (holder) {
      holder.classList.add("invalid");
      holder.append(el("p", { class: "error-text", role: "alert", "data-generated": true }, reason));
    } else {
      unplaced.push(`${name}: ${reason}`);
    }
  }
  return unplaced;
}

export function clearFieldErrors(form) {
  showFieldErrors(form, { fields: {} });
}
