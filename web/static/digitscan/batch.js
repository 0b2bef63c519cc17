// Batch page: poll the batch's JSON status endpoint (the same one API clients use) and fill in each
// image's status, reading and picture as it finishes; stop once all are done or failed.
(function () {
  "use strict";
  const section = document.getElementById("batch");
  if (!section) return;
  const url = section.dataset.statusUrl;
  const T = JSON.parse(document.getElementById("batch-strings").textContent);
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  let delay = 250;  // ms; grows to at most 2 s so that a long queue does not flood the server

  function state(item) {
    if (item.status === "failed") return fill(T.failed, { message: item.error ? item.error.message : "" });
    if (item.status === "done") return item.digits.length ? T.done : T.empty;
    return T[item.status];
  }

  function renderItem(row, item) {
    row.dataset.status = item.status;
    row.querySelector(".state").textContent = state(item);
    // The corrected reading where its owner corrected it (its digits: web/uploads/presenters.py
    // shown_lines), else the model's lines as written, as everywhere.
    const lines = item.corrected ? item.corrected.marked.map((line) => line.replace(/[^0-9?]/g, ""))
      : item.marked || [];
    row.querySelector(".text").textContent = lines.join(" ");
    row.querySelector(".name").textContent = item.name || "";
    const img = row.querySelector("img");
    if (item.thumbnail_url && item.screen_image_url) {
      img.srcset = `${item.thumbnail_url} 320w, ${item.screen_image_url} 1600w`;
      img.sizes = "(max-width: 40rem) 100vw, 20rem";
    }
    const src = item.thumbnail_url || item.image_url;
    if (img.getAttribute("src") !== src) img.src = src;
  }

  function render(data) {
    const status = document.getElementById("batch-status");
    status.dataset.status = data.status;
    status.textContent = data.status === "done" ? fill(T.all_done, data) : fill(T.progress, data);
    document.getElementById("progress").hidden = data.status === "done";
    const rows = new Map(Array.from(document.querySelectorAll("#items li")).map((li) => [li.dataset.id, li]));
    const list = document.getElementById("items");
    data.items.forEach((item) => {
      let row = rows.get(item.id);
      if (!row) {  // added to the batch since the page was made (the API can add images to a batch)
        row = document.createElement("li");
        row.dataset.id = item.id;
        const img = Object.assign(document.createElement("img"), { alt: "", loading: "lazy" });
        const link = Object.assign(document.createElement("a"), { className: "open", href: item.page_url,
                                                                   textContent: T.open });
        row.append(img, Object.assign(document.createElement("span"), { className: "name" }),
                   Object.assign(document.createElement("span"), { className: "state" }),
                   Object.assign(document.createElement("span"), { className: "text" }), link);
        list.appendChild(row);
      }
      renderItem(row, item);
    });
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        render(data);
        if (data.status === "done") return;
      }
    } catch (err) {
      // A network blip: keep polling.
    }
    delay = Math.min(delay * 1.5, 2000);
    setTimeout(poll, delay);
  }

  const initial = JSON.parse(document.getElementById("initial-data").textContent);
  if (initial.status !== "done") setTimeout(poll, delay);
})();
