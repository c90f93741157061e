// Behaviour shared by every page, kept in a file because the CSP allows no inline script or event handler.

// a form with data-confirm="…" asks before it is sent (e.g. deleting a record)
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
