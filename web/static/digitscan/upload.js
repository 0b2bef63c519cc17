// Upload page: choose, drop, paste or photograph images. Each is sent through the JSON API, so a
// refusal is shown beside its file (the server's own message) and the selection stays; one image goes
// to its result page, several make a batch and go to the batch page. A photo over the server's limits
// (bytes or pixels) is made smaller here first; anything else is sent exactly as it is.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("image");
  const camera = document.getElementById("camera");
  const drop = document.getElementById("drop");
  const list = document.getElementById("chosen");
  const formError = document.getElementById("form-error");
  const batchLink = document.getElementById("batch-link");
  const button = document.getElementById("send");
  const T = JSON.parse(document.getElementById("upload-strings").textContent);
  const MAX_BYTES = Number(form.dataset.maxBytes);
  const MAX_PIXELS = Number(form.dataset.maxPixels);
  const SIDE = Number(form.dataset.shrinkSide);
  const QUALITIES = [0.92, 0.85, 0.75, 0.65, 0.55];  // the first whose JPEG fits is sent
  // {file, row, state, ready (the file to send, once prepared), sent, refused (the server said no to this
  // very file: sending it again cannot help; remove or replace it)}
  const chosen = [];
  let batch = null;  // {url, page_url} of the batch this page's files go to, once one is made
  // The first file of several that went through, while it is the only one: it joins a batch only once a
  // second one does (a batch of one image is no batch). {id, url} from the recognitions endpoint.
  let single = null;
  let busy = false;

  const ZERO = "00000000-0000-0000-0000-000000000000";  // the id in the result page's address template
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  // A server message as a sentence on the page (as web.errors.as_sentence does: 。 in Chinese).
  const sentence = (text) => (/[.。!！?？]$/.test(text) ? text : text + T.full_stop).replace(/^./, (c) => c.toUpperCase());
  const megabytes = (bytes) => (bytes < 1024 * 1024 ? fill(T.kilobytes, { n: Math.ceil(bytes / 1024) })
    : fill(T.megabytes, { n: (bytes / (1024 * 1024)).toFixed(1) }));
  const pending = () => chosen.filter((entry) => !entry.sent && !entry.refused);
  const refused = () => chosen.filter((entry) => !entry.sent && entry.refused);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function add(files) {
    for (const file of files) {
      const row = element("li");
      const thumb = element("img", "thumb");
      thumb.alt = "";
      thumb.addEventListener("error", () => { thumb.style.visibility = "hidden"; });  // not an image after all
      if (file.type.startsWith("image/")) thumb.src = URL.createObjectURL(file);
      const state = element("span", "state");
      const remove = element("button", "link remove", T.remove);
      remove.type = "button";
      row.append(thumb, element("span", "name", file.name), element("small", "size", megabytes(file.size)),
                 state, remove);
      const entry = { file, row, state, ready: null, sent: null };
      remove.addEventListener("click", () => {
        chosen.splice(chosen.indexOf(entry), 1);
        row.remove();
        update();
      });
      chosen.push(entry);
      list.appendChild(row);
    }
    formError.textContent = "";
    update();
  }

  function update() {
    const count = pending().length;
    button.textContent = count > 1 ? fill(T.send_many, { n: count }) : T.send_one;
  }

  function show(entry, text, kind) {
    entry.state.textContent = text;
    entry.row.dataset.state = kind;
  }

  // Picked, photographed, dropped anywhere on the page, or pasted anywhere (Ctrl/Cmd-V).
  [input, camera].forEach((field) => field.addEventListener("change", () => {
    add(field.files);
    field.value = "";  // the list holds them; the same file may be picked again
  }));
  const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
  ["dragenter", "dragover"].forEach((name) => document.addEventListener(name, (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => document.addEventListener(name, () => drop.classList.remove("over")));
  document.addEventListener("drop", (event) => {
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    add(event.dataTransfer.files);
  });
  document.addEventListener("paste", (event) => {
    const files = Array.from((event.clipboardData && event.clipboardData.files) || [])
      .filter((file) => file.type.startsWith("image/"));
    if (!files.length) return;  // text: pasted where it was going
    event.preventDefault();
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    // A screenshot arrives as "image.png": named so that it can be told apart in the list and the batch.
    add(files.map((file, i) => new File([file], `${T.pasted}-${stamp}${i ? "-" + i : ""}.${file.type.split("/")[1]}`,
                                        { type: file.type })));
  });

  async function decode(file) {
    // createImageBitmap turns the photo upright from its EXIF orientation; an <img> does so by default.
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (err) {
      const img = new Image();
      img.src = URL.createObjectURL(file);
      try {
        await img.decode();
        return img;
      } catch (err2) {
        return null;
      }
    }
  }

  const jpeg = (canvas, quality) => new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));

  // The photo as a JPEG under MAX_BYTES and MAX_PIXELS, longest side at most SIDE: quality lowered
  // first, then the size, so that the digits stay as sharp as the limit allows.
  async function shrink(image, name) {
    const width = image.naturalWidth || image.width;
    const height = image.naturalHeight || image.height;
    let side = Math.min(SIDE, Math.max(width, height));
    let blob = null;
    for (;;) {
      const scale = Math.min(side / Math.max(width, height), Math.sqrt(MAX_PIXELS / (width * height)), 1);
      const canvas = element("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";  // a JPEG has no transparency: white paper under a transparent PNG
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      for (const quality of QUALITIES) {
        blob = await jpeg(canvas, quality);
        if (blob && blob.size <= MAX_BYTES) break;
      }
      if ((blob && blob.size <= MAX_BYTES) || side <= 1000) break;
      side = Math.round(side * 0.8);
    }
    // The name as the person knows it (only ever shown; the server goes by the content).
    return blob ? new File([blob], name, { type: "image/jpeg" }) : null;
  }

  async function prepare(entry) {
    if (entry.ready) return entry.ready;  // made smaller once, even if sent again
    const file = entry.file;
    const image = file.type.startsWith("image/") ? await decode(file) : null;
    // Not an image this browser reads (or not one at all): sent as it is, and the server says why.
    if (!image) return (entry.ready = file);
    const pixels = (image.naturalWidth || image.width) * (image.naturalHeight || image.height);
    if (file.size <= MAX_BYTES && pixels <= MAX_PIXELS) {
      if (image.close) image.close();
      return (entry.ready = file);
    }
    show(entry, T.shrinking, "shrinking");
    const small = await shrink(image, file.name);
    if (image.close) image.close();
    entry.ready = small || file;
    entry.row.querySelector(".size").textContent = fill(T.shrunk, { before: megabytes(file.size),
                                                                    after: megabytes(entry.ready.size) });
    return entry.ready;
  }

  const wait = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

  // POST one file (with the fields of ``extra``); over the upload rate, wait as long as the server says
  // and send it again.
  async function post(url, file, entry, extra) {
    for (;;) {
      const body = new FormData();
      body.append("image", file, file.name);
      body.append("source", "upload");
      Object.entries(extra || {}).forEach(([name, value]) => body.append(name, value));
      show(entry, T.sending, "sending");
      let response;
      try {
        response = await fetch(url, { method: "POST", body, credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value } });
      } catch (err) {
        return { ok: false, message: T.network };
      }
      const data = await response.json().catch(() => null);
      if (response.status === 429) {
        for (let s = Number(response.headers.get("Retry-After")) || 5; s > 0; s -= 1) {
          show(entry, fill(T.waiting, { s }), "waiting");
          await wait(1);
        }
        continue;
      }
      if (response.ok) return { ok: true, data };
      const item = data && data.items && data.items.find((i) => i.error);
      const error = (item && item.error) || (data && data.error);
      // 400 and 413: this file as it is will never be taken (another server error may pass next time).
      return { ok: false, final: response.status === 400 || response.status === 413,
               message: error ? sentence(error.message) : fill(T.failed, { status: response.status }) };
    }
  }

  async function sendOne(entry) {
    const outcome = await post(form.dataset.api, await prepare(entry), entry);
    if (!outcome.ok) {
      show(entry, outcome.message, "error");
      entry.refused = outcome.final;
      formError.textContent = outcome.message;
      return;
    }
    show(entry, T.sent, "sent");
    entry.sent = outcome.data;
    window.location = form.dataset.result.replace(ZERO, outcome.data.id);
  }

  // Several files: the first that goes through is an upload of its own; the second makes the batch of
  // both (the API's "upload" field brings the first in), and the rest join it.
  async function sendEntry(entry) {
    const file = await prepare(entry);
    if (batch) return post(batch.url, file, entry);
    if (!single) return post(form.dataset.api, file, entry);
    return post(form.dataset.batches, file, entry, { upload: single.id });
  }

  async function sendBatch(entries) {
    for (const entry of entries) {
      const outcome = await sendEntry(entry);
      if (!outcome.ok) {
        show(entry, outcome.message, "error");
        entry.refused = outcome.final;
        continue;
      }
      if (batch || single) {
        batch = batch || { url: outcome.data.url, page_url: outcome.data.page_url };
        entry.sent = outcome.data.items[0];
      } else {
        single = outcome.data;
        entry.sent = outcome.data;
      }
      show(entry, T.sent, "sent");
      entry.row.querySelector(".remove").hidden = true;
    }
    finish();
  }

  function finish() {
    const unsent = chosen.filter((entry) => !entry.sent).length;
    const goal = batch ? batch.page_url : single && form.dataset.result.replace(ZERO, single.id);
    if (!unsent && goal) {
      window.location = goal;
      return;
    }
    const sent = chosen.length - unsent;
    formError.textContent = sent ? fill(T.some_failed, { sent, total: chosen.length })
      : fill(T.none_sent, { total: chosen.length });
    if (goal) {
      batchLink.querySelector("a").href = goal;
      batchLink.querySelector("a").textContent = batch ? T.open_batch : T.open_result;
      batchLink.hidden = false;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const todo = pending();
    if (busy) return;
    if (!todo.length) {
      // Only files the server refused are left: sending them again would only be refused again.
      formError.textContent = refused().length ? T.only_refused : T.nothing;
      return;
    }
    busy = true;
    button.disabled = true;
    formError.textContent = "";
    try {
      // One image on its own goes to its result page, as ever; more (or more for a batch begun) to a batch.
      if (todo.length === 1 && !batch && !single) await sendOne(todo[0]);
      else await sendBatch(todo);
    } finally {
      busy = false;
      button.disabled = false;
      update();
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
  const stop = JSON.parse(document.getElementById("upload-strings").textContent).full_stop;
  // A server message as a sentence on the page (as web.errors.as_sentence does: 。 in Chinese).
  const sentence = (text) => (/[.。!！?？]$/.test(text) ? text : text + stop).replace(/^./, (c) => c.toUpperCase());
  let drawing = false;
  let drawn = false;  // anything drawn since the last clear: a blank canvas is not sent at all

  function clear() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    error.textContent = "";
    drawn = false;
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
    drawn = true;
    error.textContent = "";
  });
  ["pointerup", "pointercancel"].forEach((name) => canvas.addEventListener(name, () => { drawing = false; }));
  document.getElementById("canvas-clear").addEventListener("click", clear);

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  button.addEventListener("click", () => {
    if (!drawn) error.textContent = button.dataset.msgEmpty;
    else send();
  });

  const send = () => canvas.toBlob(async (blob) => {
    const form = new FormData();
    form.append("image", blob, "drawing.png");
    form.append("source", "canvas");
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.api, {
        method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ? sentence(body.error.message) : button.dataset.msgFailed);
      window.location = button.dataset.result.replace("00000000-0000-0000-0000-000000000000", body.id);
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
    }
  }, "image/png");

  clear();
})();
