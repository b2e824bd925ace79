// Investigation pages: elapsed clocks, finishing touches when a live update says "done", and new
// rows on the investigations list. Every page works without this file (the server renders it all).
(function () {
  const TERMINAL = new Set(["completed", "failed"]);

  function formatSeconds(total) {
    total = Math.max(0, Math.round(total));
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
    if (m) return `${m} min ${String(s).padStart(2, "0")} s`;
    return `${s} s`;
  }

  function tickElapsed() {
    document.querySelectorAll("[data-elapsed-from]").forEach((el) => {
      if (el.dataset.elapsedTo) return; // finished: the server's "took N s" stays
      const from = new Date(el.dataset.elapsedFrom);
      if (isNaN(from)) return;
      el.textContent = `running for ${formatSeconds((Date.now() - from.getTime()) / 1000)}`;
    });
  }

  let finishedAnnounced = false;
  function checkFinished() {
    const header = document.getElementById("investigation-header");
    if (!header || !TERMINAL.has(header.dataset.status)) return;
    document.querySelectorAll("[data-rerun][disabled]").forEach((button) => {
      button.disabled = false;
      button.removeAttribute("title");
    });
    if (!finishedAnnounced) {
      finishedAnnounced = true;
      document.body.dispatchEvent(new CustomEvent("investigation-finished", { bubbles: true }));
    }
  }

  // A row for an investigation this page does not show yet: prepend it where the list is the
  // unfiltered first page, otherwise offer a refresh (the filters decide whether it belongs).
  document.addEventListener("htmx:oobErrorNoTarget", (event) => {
    const content = event.detail && event.detail.content;
    if (!content || !content.id || !content.id.startsWith("investigation-row-")) return;
    const rows = document.getElementById("investigation-rows");
    if (rows && rows.hasAttribute("data-live-prepend")) {
      const row = content.cloneNode(true);
      row.removeAttribute("hx-swap-oob");
      rows.prepend(row);
      // The first investigation ever: swap the empty state for the (hidden) table.
      const table = rows.closest("[data-live-table]");
      if (table) table.hidden = false;
      document.querySelectorAll("[data-live-empty]").forEach((el) => { el.hidden = true; });
      if (window.htmx) window.htmx.process(row);
      if (typeof window.relativeTimes === "function") window.relativeTimes(row);
      return;
    }
    const notice = document.getElementById("investigations-live-notice");
    if (notice) notice.hidden = false;
  });

  // Open the panel of a topology node chosen in the graph (also works through :target in CSS).
  function focusPanel() {
    const id = decodeURIComponent(location.hash.slice(1));
    if (!id.startsWith("obj-")) return;
    const panel = document.getElementById(id);
    if (panel) panel.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:oobAfterSwap", () => { checkFinished(); tickElapsed(); });
  document.addEventListener("htmx:wsAfterMessage", () => { checkFinished(); tickElapsed(); });
  window.addEventListener("hashchange", focusPanel);
  document.addEventListener("DOMContentLoaded", () => {
    tickElapsed();
    checkFinished();
    setInterval(tickElapsed, 1000);
  });
})();
