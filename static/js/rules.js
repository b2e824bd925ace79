// Rule and silence forms: remove condition rows in the page, point each value input at the
// suggestions seen for its field, and ask for a fresh preview when a row goes away.
(function () {
  const PREFIXED = ["label", "annotation"];

  function updateLists(row) {
    const field = row.querySelector(".cond-field").value;
    const keyInput = row.querySelector(".cond-key");
    const full = PREFIXED.includes(field) ? `${field}:${keyInput.value.trim()}` : field;
    const list = Array.from(document.querySelectorAll("datalist[data-field]")).find((d) => d.dataset.field === full);
    const value = row.querySelector(".cond-value");
    if (list) value.setAttribute("list", list.id);
    else value.removeAttribute("list");
    if (PREFIXED.includes(field)) keyInput.setAttribute("list", `dl-keys-${field}`);
    else keyInput.removeAttribute("list");
  }

  function wire(root) {
    root.querySelectorAll(".cond-row").forEach(updateLists);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remove-row]");
    if (!button) return;
    const row = button.closest(".cond-row");
    const form = row.closest("form");
    row.remove();
    if (form && window.htmx) window.htmx.trigger(form, "conditions-changed");
  });
  document.addEventListener("change", (event) => {
    const row = event.target.closest && event.target.closest(".cond-row");
    if (row) updateLists(row);
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches(".cond-key")) updateLists(event.target.closest(".cond-row"));
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    wire(event.target);
    if (event.target.id === "cond-rows") {
      const rows = event.target.querySelectorAll(".cond-row");
      if (rows.length) rows[rows.length - 1].querySelector(".cond-field").focus();
    }
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => wire(document));
  else wire(document);
})();
