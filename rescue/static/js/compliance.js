// Regulator: drill compliance from GET /api/v1/drills/compliance, drawn as bars and a table.
import { el, get } from "./api.js";

const industries = JSON.parse(document.getElementById("industry-names").textContent);
const $ = (id) => document.getElementById(id);

function bars(target, counts, names = {}) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  target.replaceChildren(...(entries.length ? entries.map(([key, n]) => el("div", { class: "bar-row" },
    el("span", { class: "bar-label", title: names[key] || key }, names[key] || key || "未填"),
    el("span", { class: "bar", role: "img", "aria-label": `${names[key] || key}: ${n}` }, el("span", { class: "bar-fill", style: `width:${(100 * n) / max}%` })),
    el("span", { class: "bar-value" }, n))) : [el("p", { class: "ok" }, "没有逾期")]));
}

function countBy(items, key) {
  const out = {};
  for (const item of items) out[item[key] ?? ""] = (out[item[key] ?? ""] || 0) + 1;
  return out;
}

function day(value) { return value ? String(value).slice(0, 10) : "从未演练"; }

try {
  const data = await get("/drills/compliance");
  const all = data.items || data.enterprises || [];
  const overdue = data.overdue || all.filter((e) => e.overdue);
  $("overdue-total").textContent = overdue.length;
  $("required-total").textContent = data.required ?? data.total ?? all.length ?? "—";
  bars($("by-city"), data.by_city && !Array.isArray(data.by_city) ? data.by_city : countBy(overdue, "city"));
  bars($("by-industry"), data.by_industry && !Array.isArray(data.by_industry) ? data.by_industry : countBy(overdue, "industry"), industries);
  const rows = overdue.map((e) => el("tr", { class: "overdue" },
    el("td", {}, e.enterprise || e.name || ""), el("td", {}, e.city || ""), el("td", {}, e.county || ""),
    el("td", {}, industries[e.industry] || e.industry || ""), el("td", {}, day(e.last_drill_date || e.last_drill || e.last_drill_dt)),
    el("td", {}, day(e.due_date || e.due || e.due_dt)), el("td", { class: "num" }, e.days_overdue ?? e.overdue_days ?? "")));
  $("overdue-table").tBodies[0].replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, class: "ok" }, "没有逾期企业"))]));
} catch (err) {
  $("compliance-error").textContent = `无法加载演练合规数据: ${err.message}`;
  $("compliance-error").hidden = false;
  $("overdue-table").tBodies[0].replaceChildren();
}
