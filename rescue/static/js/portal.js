// Enterprise portal overview: response cards and drill plans from the API (each opens its portal page).
import { beijing, el, get } from "./api.js";

async function fill(sectionId, path, render) {
  const section = document.getElementById(sectionId);
  const empty = section.querySelector("[data-empty]"), list = section.querySelector("[data-list]");
  try {
    const data = await get(path);
    const items = data.items || [];
    empty.textContent = items.length ? `共 ${data.total ?? items.length} 项` : "暂无";
    list.replaceChildren(...items.slice(0, 20).map((item) => el("li", {}, render(item))));
  } catch (err) {
    empty.textContent = err.status === 404 ? "暂未开放" : `无法加载: ${err.message}`;
  }
}

fill("cards-section", "/cards?limit=50", (c) => [el("a", { href: `/portal/cards/${encodeURIComponent(c.id)}` }, c.post || `处置卡 ${c.id}`), " ",
  el("span", { class: "muted small" }, [c.number, c.version ? `v${c.version}` : "", c.area].filter(Boolean).join(" · ")), " ",
  el("a", { href: `/api/v1/cards/${encodeURIComponent(c.id)}.pdf`, target: "_blank", rel: "noopener" }, "打印")]);
fill("drills-section", "/drills?limit=50", (d) => [el("a", { href: `/portal/drills/${encodeURIComponent(d.id)}` }, d.name || `演练 ${d.id}`), " ",
  el("span", { class: "muted small" }, [d.form_name, beijing(d.next_run_at || d.starts_at)].filter(Boolean).join(" · "))]);
