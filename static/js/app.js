// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  // Close an open menu when clicking elsewhere.
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
document.addEventListener("htmx:wsOpen", () => document.querySelectorAll(".live-dot").forEach((d) => d.classList.add("on")));
document.addEventListener("htmx:wsClose", () => document.querySelectorAll(".live-dot").forEach((d) => d.classList.remove("on")));
// Render <time data-relative> as "5 min ago" while keeping the absolute time in the title.
function relativeTimes(root) {
  root.querySelectorAll("time[data-relative]").forEach((el) => {
    const when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    const seconds = Math.round((Date.now() - when.getTime()) / 1000);
    const abs = Math.abs(seconds);
    const units = [["day", 86400], ["h", 3600], ["min", 60], ["s", 1]];
    let text = "just now";
    for (const [unit, size] of units) {
      if (abs >= size) { const n = Math.floor(abs / size); text = `${n} ${unit}${unit === "day" && n > 1 ? "s" : ""} ${seconds >= 0 ? "ago" : "from now"}`; break; }
    }
    el.title = when.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
    el.textContent = text;
  });
}
document.addEventListener("DOMContentLoaded", () => relativeTimes(document));
document.addEventListener("htmx:afterSwap", (e) => relativeTimes(e.target));
document.addEventListener("htmx:oobAfterSwap", (e) => relativeTimes(e.target));
