// Every page: the phone menu's button opens and closes the site's links (digitscan.css hides them on
// narrow screens only once this script can show them again: the "js" class on <html>).
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".menu-toggle");
  const header = document.querySelector("header.site");
  if (!toggle || !header) return;
  toggle.addEventListener("click", () => {
    const open = header.classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("open")) {
      header.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
});

// Every page: times in the reader's own time zone and language. The server writes UTC
// (<time class="local" datetime="…Z">… UTC</time>, web/uploads/templatetags/local_time.py); the browser
// knows where its reader is.
function digitscanLocalTimes(root) {
  const lang = document.documentElement.lang || undefined;
  let format;
  try {
    format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch (err) {
    format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
  (root || document).querySelectorAll("time.local[datetime]").forEach((node) => {
    const when = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) return;
    if (!node.title) node.title = node.textContent.trim();  // the UTC time, on hover
    node.textContent = format.format(when);
  });
}
document.addEventListener("DOMContentLoaded", () => digitscanLocalTimes(document));
