// Result page: poll the JSON status endpoint (the same one API clients use) until the upload finishes.
(function () {
  "use strict";
  const section = document.getElementById("result");
  if (!section) return;
  const url = section.dataset.statusUrl;
  const $ = (id) => document.getElementById(id);
  // The status words come from the page (data- attributes, in its language): no words in this file.
  const words = $("status").dataset;
  const STATUS_TEXT = { queued: words.queued, running: words.running, done: words.done };
  let delay = 250;  // ms; grows to at most 2 s so a long queue does not flood the server

  // The reading as every page shows it (web/uploads/presenters.py shown_lines): once corrected, the
  // corrected digits line by line with their ? marks; else the model's lines as written.
  function shownLines(data) {
    if (data.corrected) return data.corrected.marked.map((line) => line.replace(/[^0-9?]/g, ""));
    return data.marked || data.display || data.lines;
  }

  // Each line labelled "line 1" beside it (CSS, from data-label), not "1." that reads like part of it.
  function renderLines(lines) {
    const list = $("lines");
    list.replaceChildren(...lines.map((line, n) => {
      const item = Object.assign(document.createElement("li"), { textContent: line });
      item.dataset.label = list.dataset.label.replace("{n}", n + 1);
      return item;
    }));
  }

  function renderTable(data) {
    const body = document.querySelector("#digits tbody");
    body.replaceChildren(...data.digits.map((d, index) => {
      const row = document.createElement("tr");
      if (d.uncertain) row.className = "uncertain";
      row.dataset.index = index;
      [index + 1, d.line + 1, d.digit + (d.uncertain ? "?" : ""), Math.round(d.confidence * 100) + "%", ""].forEach((value) => {
        row.appendChild(Object.assign(document.createElement("td"), { textContent: value }));
      });
      row.children[1].className = "line";
      row.lastChild.className = "fix";
      return row;
    }));
    $("digits").hidden = data.digits.length === 0;
  }

  function render(data) {
    const status = $("status");
    status.dataset.status = data.status;
    status.textContent = data.status === "failed"
      ? words.failed + " " + (data.error ? data.error.message : words.unknown)
      : data.status === "done" && data.digits.length === 0 ? words.empty : STATUS_TEXT[data.status];
    $("progress").hidden = data.status === "done" || data.status === "failed";
    if (data.status !== "done") return;
    // Sized for the screen; the full-size image is a link away, and a download.
    const picture = data.screen_image_url || data.annotated_image_url;
    if (picture) $("annotated").src = picture;
    $("zoom-tools").hidden = false;
    if (data.annotated_image_url) {
      Object.assign($("full-size"), { href: data.annotated_image_url, hidden: false });
      $("annotated-download").href = data.annotated_image_url + "?download";
      $("annotated-download-item").hidden = false;
    }
    renderLines(shownLines(data));
    $("corrected-note").hidden = !data.corrected;
    $("model-text").textContent = (data.marked || data.lines).join(" ");
    renderTable(data);
    $("no-digits").hidden = data.digits.length !== 0;
    $("model-version").textContent = data.model_version || "—";
    if (!$("editor")) return;  // staff looking at someone else's upload: no correcting it
    // The reading as digits with its ? marks, lines apart: a ? deleted confirms that digit.
    $("feedback-text").value = shownLines(data).map((line) => line.replace(/[^0-9?]/g, ""))
      .filter((line) => line).join(" ");
    $("feedback-section").hidden = false;
    // One correction form at a time: typing opens by itself only when there are no boxes to tap.
    $("typed").open = data.digits.length === 0;
    $("editor").hidden = false;
    if (window.DigitScanEditor) window.DigitScanEditor.load(data);
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        render(data);
        if (data.status === "done" || data.status === "failed") return;
      }
    } catch (err) {
      // A network blip: keep polling.
    }
    delay = Math.min(delay * 1.5, 2000);
    setTimeout(poll, delay);
  }

  // Zoom: the image (and the boxes over it, placed in percent) grows in steps inside its own scrolling
  // box, keeping the point in the middle of the view where it was.
  const ZOOMS = [1, 1.5, 2, 3, 4, 6];
  let zoom = 0, fitted = 0;
  function setZoom(step) {
    const scroller = $("stage-scroll"), image = $("annotated");
    if (zoom === 0) fitted = image.getBoundingClientRect().width;
    if (!fitted) return;
    const middle = [(scroller.scrollLeft + scroller.clientWidth / 2) / image.offsetWidth,
                    (scroller.scrollTop + scroller.clientHeight / 2) / image.offsetHeight];
    zoom = Math.min(Math.max(step, 0), ZOOMS.length - 1);
    scroller.classList.toggle("zoomed", zoom > 0);
    image.style.width = zoom ? fitted * ZOOMS[zoom] + "px" : "";
    scroller.scrollLeft = middle[0] * image.offsetWidth - scroller.clientWidth / 2;
    scroller.scrollTop = middle[1] * image.offsetHeight - scroller.clientHeight / 2;
    $("zoom-level").textContent = Math.round(ZOOMS[zoom] * 100) + "%";
    $("zoom-out").disabled = zoom === 0;
    $("zoom-in").disabled = zoom === ZOOMS.length - 1;
  }
  $("zoom-in").addEventListener("click", () => setZoom(zoom + 1));
  $("zoom-out").addEventListener("click", () => setZoom(zoom - 1));

  const initial = JSON.parse($("initial-data").textContent);
  if (initial.status !== "done" && initial.status !== "failed") setTimeout(poll, delay);
  else if (initial.status === "done" && window.DigitScanEditor) window.DigitScanEditor.load(initial);
})();
