// Result page: poll the JSON status endpoint (the same one API clients use) until the upload finishes.
(function () {
  "use strict";
  const section = document.getElementById("result");
  if (!section) return;
  const url = section.dataset.statusUrl;
  // The status words come from the page (data- attributes, in its language): no words in this file.
  const words = document.getElementById("status").dataset;
  const STATUS_TEXT = { queued: words.queued, running: words.running, done: words.done };
  let delay = 250;  // ms; grows to at most 2 s so a long queue does not flood the server

  function render(data) {
    const status = document.getElementById("status");
    status.dataset.status = data.status;
    status.textContent = data.status === "failed"
      ? words.failed + " " + (data.error ? data.error.message : words.unknown)
      : data.status === "done" && data.digits.length === 0 ? words.empty : STATUS_TEXT[data.status];
    document.getElementById("progress").hidden = data.status === "done" || data.status === "failed";
    if (data.status !== "done") return;
    // Sized for the screen; the full-size image is a link away.
    const picture = data.screen_image_url || data.annotated_image_url;
    if (picture) document.getElementById("annotated").src = picture;
    const full = document.getElementById("full-size");
    if (data.annotated_image_url) Object.assign(full, { href: data.annotated_image_url, hidden: false });
    // The corrected reading once there is one (the model's stays in the note under it).
    const shown = data.corrected || data;
    const lines = document.getElementById("lines");
    lines.replaceChildren(...(shown.marked || shown.display || shown.lines).map((line) => Object.assign(document.createElement("li"), { textContent: line })));
    document.getElementById("corrected-note").hidden = !data.corrected;
    document.getElementById("model-text").textContent = (data.marked || data.lines).join(" ");
    const body = document.querySelector("#digits tbody");
    body.replaceChildren(...data.digits.map((d, index) => {
      const row = document.createElement("tr");
      if (d.uncertain) row.className = "uncertain";
      row.dataset.index = index;
      [index + 1, d.line + 1, d.digit + (d.uncertain ? "?" : ""), Math.round(d.confidence * 100) + "%", ""].forEach((value) => {
        row.appendChild(Object.assign(document.createElement("td"), { textContent: value }));
      });
      row.lastChild.className = "fix";
      return row;
    }));
    document.getElementById("digits").hidden = data.digits.length === 0;
    document.getElementById("no-digits").hidden = data.digits.length !== 0;
    document.getElementById("model-version").textContent = data.model_version || "—";
    // The reading as digits with its ? marks, lines apart: a ? deleted confirms that digit.
    document.getElementById("feedback-text").value = (shown.marked || shown.lines)
      .map((line) => line.replace(/[^0-9?]/g, "")).filter((line) => line).join(" ");
    document.getElementById("feedback-section").hidden = false;
    document.getElementById("editor").hidden = false;
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

  const initial = JSON.parse(document.getElementById("initial-data").textContent);
  if (initial.status !== "done" && initial.status !== "failed") setTimeout(poll, delay);
  else if (initial.status === "done" && window.DigitScanEditor) window.DigitScanEditor.load(initial);
})();
