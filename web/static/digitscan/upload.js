// Upload page: show a preview of the chosen image and accept a file dropped on the drop zone.
(function () {
  "use strict";
  const drop = document.getElementById("drop");
  const input = document.getElementById("image");
  const preview = document.getElementById("preview");
  const text = document.getElementById("drop-text");
  if (!drop || !input) return;

  function show(file) {
    if (!file) return;
    text.textContent = file.name;
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  }

  input.addEventListener("change", () => show(input.files[0]));
  ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;  // the form then submits the dropped file as if picked
      show(input.files[0]);
    }
  });
})();

// Canvas: draw digits with a thick dark pen, then send the drawing as a PNG through the JSON API.
(function () {
  "use strict";
  const canvas = document.getElementById("canvas");
  if (!canvas) return;
  const ctx = canvas.getContext("2d");
  const button = document.getElementById("canvas-read");
  const error = document.getElementById("canvas-error");
  let drawing = false;

  function clear() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    error.textContent = "";
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();  // the canvas may be scaled down by CSS
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    ctx.beginPath();
    ctx.moveTo(...point(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    Object.assign(ctx, { lineWidth: 14, lineCap: "round", lineJoin: "round", strokeStyle: "#111" });
    ctx.lineTo(...point(event));
    ctx.stroke();
  });
  ["pointerup", "pointercancel"].forEach((name) => canvas.addEventListener(name, () => { drawing = false; }));
  document.getElementById("canvas-clear").addEventListener("click", clear);

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  button.addEventListener("click", () => canvas.toBlob(async (blob) => {
    const form = new FormData();
    form.append("image", blob, "drawing.png");
    form.append("source", "canvas");
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.api, {
        method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ? body.error.message : "the drawing could not be sent");
      window.location = button.dataset.result.replace("00000000-0000-0000-0000-000000000000", body.id);
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
    }
  }, "image/png"));

  clear();
})();
