// Behaviour shared by every page, kept in a file because the CSP allows no inline script or event handler.

// Ask before something that cannot be taken back: a <dialog> with the summary in data-confirm (plain text).
// Resolves true when the person confirms. Used by forms (data-confirm) and by page scripts (window.rescueConfirm).
function confirmDialog(message, { ok = "确定", cancel = "取消", title = "请确认" } = {}) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-title");
    const heading = document.createElement("h2");
    heading.id = "confirm-title";
    heading.textContent = title;
    const body = document.createElement("div");
    body.className = "confirm-body";
    for (const line of String(message).split("\n")) {
      const p = document.createElement("p");
      p.textContent = line;
      body.append(p);
    }
    const buttons = document.createElement("div");
    buttons.className = "actions";
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "primary";
    yes.dataset.confirmOk = "";
    yes.textContent = ok;
    const no = document.createElement("button");
    no.type = "button";
    no.dataset.confirmCancel = "";
    no.textContent = cancel;
    buttons.append(yes, no);
    dialog.append(heading, body, buttons);
    document.body.append(dialog);
    const finish = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    yes.addEventListener("click", () => finish(true));
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); finish(false); });
    dialog.showModal();
    no.focus();
  });
}
window.rescueConfirm = confirmDialog;

// a form with data-confirm="…" asks before it is sent (deleting a record, lifting a closure, starting a drill)
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (form.dataset.confirmed === "1") { delete form.dataset.confirmed; return; }
  event.preventDefault();
  const submitter = event.submitter;
  confirmDialog(form.dataset.confirm, { ok: form.dataset.confirmOk || "确定" }).then((yes) => {
    if (!yes) return;
    form.dataset.confirmed = "1";
    form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
  });
});

// print buttons (the dispatch record)
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (target) window.print();
});

// the navigation behind a menu button on narrow screens
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.getElementById("nav-toggle");
  const nav = document.getElementById("mainnav");
  if (!toggle || !nav) return;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("nav-open", open);
  });
});
