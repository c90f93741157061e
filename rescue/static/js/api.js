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

// Beijing wall-clock time whatever the browser's zone (the same rules as rescue/web/formatting.py)
const BJ_PARTS = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour12: false, year: "numeric",
  month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });

function beijingParts(iso) {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const parts = Object.fromEntries(BJ_PARTS.formatToParts(d).map((p) => [p.type, p.value]));
  if (parts.hour === "24") parts.hour = "00";
  return parts;
}

// "2025-03-01 14:05" in Beijing time; "" for nothing
export function beijing(iso) {
  if (!iso) return "";
  const p = beijingParts(iso);
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` : String(iso);
}

// "14:05:09" in Beijing time (today's events in the console)
export function clock(iso) {
  if (!iso) return "";
  const p = beijingParts(iso);
  return p ? `${p.hour}:${p.minute}:${p.second}` : "";
}

// an E.164 number written the Chinese way: "139 5100 0170", "0951-5010100"
export function phone(e164) {
  const raw = String(e164 || "").trim();
  if (!raw.startsWith("+86")) return raw;
  const n = raw.slice(3);
  if (/^1\d{10}$/.test(n)) return `${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}`;
  // two-digit area codes: Beijing, Shanghai, Tianjin, Chongqing and 02x; three digits elsewhere
  const area = /^(10|2\d)/.test(n) ? 2 : 3;
  return `0${n.slice(0, area)}-${n.slice(area)}`;
}

// a tel: link that shows the number the Chinese way
export function telLink(e164, attrs = {}) {
  if (!e164) return null;
  return el("a", { href: `tel:${e164}`, class: "tel", ...attrs }, phone(e164));
}

// timeline event kinds and what they say to a dispatcher
export const EVENT_NAMES = {
  created: "已创建", dispatched: "已调派", notified: "已通知", sms_sent: "短信已发出", sms_delivered: "短信已送达",
  sms_failed: "短信发送失败", voice_called: "已语音呼叫", accepted: "已接受", declined: "已拒绝", no_answer: "未应答",
  failed: "送达失败", escalated: "已升级改派", replaced: "已替换", en_route: "途中", on_scene: "已到场",
  released: "已解除", cancelled: "已取消", corrected: "调度员更正", reply: "收到回复", reply_flagged: "回复待核",
  status: "状态变更", closed: "已结案", reminder: "已提醒", link_opened: "已打开链接", note: "备注",
  chain_escalated: "逐级升级", escalation_not_needed: "无需升级", escalation_exhausted: "无人可再升级",
  sms_possibly_duplicated: "短信可能重复", sms_undelivered: "短信未送达", opt_out: "退订", reply_unclear: "回复无法识别",
  correction: "调度员更正", voice_failed: "语音呼叫失败", voice_answered: "语音已接听", reopened: "重新打开",
};

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
      holder.append(el("p", { class: "error-text", role: "alert", "data-generated": true }, plainReason(holder, reason)));
    } else {
      unplaced.push(`${name}: ${reason}`);
    }
  }
  return unplaced;
}

// the API's generic wording, said the way a form speaks: a select asks to choose, a time asks for date and time
function plainReason(holder, reason) {
  const label = holder.querySelector("label")?.textContent.replace(/[*＊]/g, "").trim() || "";
  if (/^(至少 \d+ 个字符|必填|不能为空|Field required)$/.test(reason) && holder.querySelector("select")) return `请选择${label}`;
  if (/^至少 \d+ 个字符$/.test(reason)) return `请填写${label}`;
  if (/时间格式有误|时间需带时区/.test(reason)) return "请填写日期和时间 (北京时间)";
  return reason;
}

export function clearFieldErrors(form) {
  showFieldErrors(form, { fields: {} });
}

