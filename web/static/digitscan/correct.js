// Result page: correct the reading digit by digit. The boxes read are drawn over the image as buttons
// (placed in percent of the original image's pixels, so they scale with it); picking one (or a row of the
// digits table) opens the digit keys: relabel it, mark it "not a digit", or leave it as read. "Add a missed
// digit" lets a rectangle be dragged on the image (mouse, pen or finger: pointer events). The page sends
// the operations of web/uploads/corrections.py; the server checks them and keeps the corrected reading.
// Every word shown comes from the page (#correction-words), translated there.
(function () {
  "use strict";
  const overlay = document.getElementById("overlay");
  if (!overlay) return;
  const WORDS = JSON.parse(document.getElementById("correction-words").textContent);
  const image = document.getElementById("annotated");
  // The original's size in pixels (the boxes' unit); an upload stored before it was kept: the image's own.
  let W = Number(overlay.dataset.width), H = Number(overlay.dataset.height);
  const $ = (id) => document.getElementById(id);
  const sure = (p) => Math.round(p * 100) + "%";
  const say = (key, values) => WORDS[key].replace(/\{(\w+)\}/g, (_, name) => values[name]);
  const pct = (v) => (v * 100).toFixed(3) + "%";  // a thousandth of a percent: a pixel of a 10,000 px image

  let digits = [];      // as the model read them
  let fixes = new Map(); // index → {op: "relabel", digit} | {op: "not_a_digit"}
  let adds = [];        // {digit (null: not picked yet), box (null: not marked), line, position}
  let initial = "[]";
  let selected = null;  // {read: index} | {add: k}
  let drawing = null;   // null, or {add: k} to mark an added digit's box, or {add: null} for a new one

  function load(data) {
    if (!W || !H) {
      if (!image.naturalWidth) { image.addEventListener("load", () => load(data), { once: true }); return; }
      W = image.naturalWidth; H = image.naturalHeight;
    }
    digits = data.digits || [];
    fixes = new Map();
    adds = [];
    for (const op of (data.corrected && data.corrected.operations) || []) {
      if (op.op === "add") adds.push({ digit: op.digit, box: op.box, line: op.line, position: op.position });
      else fixes.set(op.index, op.op === "relabel" ? { op: op.op, digit: op.digit } : { op: op.op });
    }
    initial = JSON.stringify(operations());
    selected = null;
    stopDrawing();
    draw();
  }

  function operations() {
    const ops = [];
    [...fixes.keys()].sort((a, b) => a - b).forEach((index) => {
      const fix = fixes.get(index);
      ops.push(fix.op === "relabel" ? { op: "relabel", index, digit: fix.digit } : { op: "not_a_digit", index });
    });
    for (const add of adds) {
      if (add.digit === null) continue;
      const op = { op: "add", digit: add.digit };
      if (add.box) op.box = add.box;
      if (add.line !== null && add.line !== undefined) op.line = add.line;
      if (!add.box) op.position = add.position;
      ops.push(op);
    }
    return ops;
  }

  // The line a new box joins, as the server finds it: the line sharing half its height, else a new one.
  function lineOf(box) {
    const spans = new Map();
    digits.forEach((d) => {
      const [top, bottom] = spans.get(d.line) || [d.box[1], d.box[1] + d.box[3]];
      spans.set(d.line, [Math.min(top, d.box[1]), Math.max(bottom, d.box[1] + d.box[3])]);
    });
    let best = null, bestShare = 0;
    spans.forEach(([top, bottom], line) => {
      const share = (Math.min(box[1] + box[3], bottom) - Math.max(box[1], top)) / Math.min(box[3], bottom - top);
      if (share > bestShare) { best = line; bestShare = share; }
    });
    return bestShare >= 0.5 ? best : Math.max(-1, ...spans.keys()) + 1;
  }

  // The corrected reading, digits only with ? marks (the server's corrected_reading, without separators).
  function preview() {
    const lines = new Map();
    const put = (line) => lines.get(line) || lines.set(line, []).get(line);
    digits.forEach((d, index) => {
      const fix = fixes.get(index);
      if (fix && fix.op === "not_a_digit") return;
      put(d.line).push({ digit: fix ? fix.digit : d.digit, box: d.box, uncertain: d.uncertain && !fix });
    });
    adds.filter((a) => a.box).sort((a, b) => a.box[0] - b.box[0]).forEach((add) => {
      const line = put(add.line !== null && add.line !== undefined ? add.line : lineOf(add.box));
      const at = line.findIndex((item) => item.box && item.box[0] > add.box[0]);
      line.splice(at < 0 ? line.length : at, 0, { digit: add.digit, box: add.box });
    });
    adds.filter((a) => !a.box).sort((a, b) => a.position - b.position).forEach((add) => {
      const line = put(add.line);
      line.splice(Math.min(add.position, line.length), 0, { digit: add.digit });
    });
    return [...lines.keys()].sort((a, b) => a - b).map((n) => lines.get(n)).filter((l) => l.length)
      .map((l) => l.map((i) => (i.digit === null ? "_" : i.digit) + (i.uncertain ? "?" : "")).join("")).join(" ");
  }

  function place(element, box) {
    element.style.left = pct(box[0] / W); element.style.top = pct(box[1] / H);
    element.style.width = pct(box[2] / W); element.style.height = pct(box[3] / H);
  }

  function boxButton(box, classes, badge, title, pick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "box " + classes;
    button.title = title;
    button.setAttribute("aria-label", title);
    place(button, box);
    if (badge) button.appendChild(Object.assign(document.createElement("span"), { className: "badge", textContent: badge }));
    button.addEventListener("click", (event) => { event.stopPropagation(); pick(); });
    return button;
  }

  function draw() {
    const buttons = digits.map((d, index) => {
      const fix = fixes.get(index);
      const state = !fix ? (d.uncertain ? "uncertain" : "") : fix.op === "not_a_digit" ? "rejected"
        : fix.digit === d.digit ? "confirmed" : "relabelled";
      const badge = !fix ? "" : fix.op === "not_a_digit" ? "✕" : String(fix.digit);
      const title = say("box", { n: index + 1, line: d.line + 1, digit: d.digit, confidence: sure(d.confidence) });
      const selectedNow = selected && selected.read === index;
      return boxButton(d.box, state + (selectedNow ? " selected" : ""), badge, title, () => select({ read: index }));
    });
    adds.forEach((add, k) => {
      if (!add.box) return;
      const line = add.line !== null && add.line !== undefined ? add.line : lineOf(add.box);
      const title = say("added", { digit: add.digit === null ? "?" : add.digit, line: line + 1 });
      const selectedNow = selected && selected.add === k;
      buttons.push(boxButton(add.box, "added" + (selectedNow ? " selected" : ""),
        add.digit === null ? "?" : String(add.digit), title, () => select({ add: k })));
    });
    overlay.replaceChildren(...buttons);
    drawTable();
    drawUnplaced();
    drawPicker();
    const ops = operations();
    const count = (kind) => ops.filter((op) => op.op === kind).length;
    $("preview").textContent = preview() || WORDS.empty;
    const incomplete = adds.some((a) => a.digit === null);
    const loose = adds.filter((a) => !a.box && a.digit !== null).length;
    const changed = JSON.stringify(ops) !== initial;
    $("editor-summary").textContent = incomplete ? WORDS.needs_digit : !ops.length && !changed ? WORDS.nothing
      : say("changes", { relabel: count("relabel"), reject: count("not_a_digit"), add: count("add") })
        + (loose ? " " + say("no_box", { n: loose }) : "");
    $("operations").value = JSON.stringify(ops);
    $("send-operations").disabled = incomplete || !changed;
  }

  function drawTable() {
    document.querySelectorAll("#digits tbody tr").forEach((row) => {
      const index = Number(row.dataset.index);
      const fix = fixes.get(index);
      const cell = row.querySelector(".fix");
      if (cell) cell.textContent = !fix ? "" : fix.op === "not_a_digit" ? WORDS.not_a_digit : String(fix.digit);
      row.classList.toggle("selected", Boolean(selected && selected.read === index));
    });
  }

  function drawUnplaced() {
    const loose = adds.map((add, k) => [add, k]).filter(([add]) => !add.box);
    $("unplaced").hidden = loose.length === 0;
    $("unplaced-list").replaceChildren(...loose.map(([add, k]) => {
      const item = document.createElement("li");
      item.textContent = say("unplaced", { digit: add.digit, line: add.line + 1 }) + " ";
      const mark = Object.assign(document.createElement("button"), { type: "button", className: "secondary mark",
                                                                    textContent: WORDS.mark });
      mark.addEventListener("click", () => startDrawing({ add: k }));
      item.appendChild(mark);
      return item;
    }));
  }

  function drawPicker() {
    const picker = $("picker");
    picker.hidden = selected === null;
    if (selected === null) return;
    let current;
    if (selected.read !== undefined) {
      const d = digits[selected.read];
      const fix = fixes.get(selected.read);
      current = fix ? (fix.op === "not_a_digit" ? "reject" : fix.digit) : null;
      $("picker-title").textContent = say("pick_read", { n: selected.read + 1, line: d.line + 1, digit: d.digit,
                                                         confidence: sure(d.confidence) });
    } else {
      const add = adds[selected.add];
      current = add.digit;
      $("picker-title").textContent = say("pick_added", { line: (add.line ?? lineOf(add.box)) + 1 });
    }
    picker.querySelectorAll(".key").forEach((key) => {
      key.setAttribute("aria-pressed", String(Number(key.dataset.digit) === current));
    });
    const reading = selected.read !== undefined;
    $("pick-not-digit").hidden = !reading;
    $("pick-not-digit").setAttribute("aria-pressed", String(current === "reject"));
    $("pick-as-read").hidden = !reading;
    $("pick-remove").hidden = reading;
  }

  function select(which) {
    if (drawing) return;
    selected = which;
    draw();
    $("picker").scrollIntoView({ block: "nearest" });
  }

  function pickDigit(digit) {
    if (selected === null) return;
    if (selected.read !== undefined) fixes.set(selected.read, { op: "relabel", digit });
    else adds[selected.add].digit = digit;
    draw();
  }

  // Drawing a rectangle on the image: the overlay takes the pointer (and stops the page scrolling under a
  // finger) only while drawing.
  let start = null, band = null;

  function startDrawing(which) {
    drawing = which;
    selected = null;
    overlay.classList.add("drawing");
    $("add-digit").setAttribute("aria-pressed", "true");
    const add = which.add !== null ? adds[which.add] : null;
    $("draw-hint").textContent = add ? say("place", { digit: add.digit, line: add.line + 1 }) : WORDS.draw;
    $("draw-hint").hidden = false;
    draw();
    overlay.scrollIntoView({ block: "nearest" });
  }

  function stopDrawing() {
    drawing = null;
    start = null;
    if (band) band.remove();
    band = null;
    overlay.classList.remove("drawing");
    $("add-digit").setAttribute("aria-pressed", "false");
    $("draw-hint").hidden = true;
  }

  function imagePoint(event) {
    const rect = overlay.getBoundingClientRect();
    const x = Math.min(Math.max(event.clientX - rect.left, 0), rect.width) / rect.width * W;
    const y = Math.min(Math.max(event.clientY - rect.top, 0), rect.height) / rect.height * H;
    return [x, y];
  }

  function bandBox(a, b) {
    const x = Math.floor(Math.min(a[0], b[0])), y = Math.floor(Math.min(a[1], b[1]));
    const x2 = Math.ceil(Math.max(a[0], b[0])), y2 = Math.ceil(Math.max(a[1], b[1]));
    return [x, y, Math.min(x2, W) - x, Math.min(y2, H) - y];
  }

  overlay.addEventListener("pointerdown", (event) => {
    if (!drawing) return;
    event.preventDefault();
    overlay.setPointerCapture(event.pointerId);
    start = imagePoint(event);
    band = Object.assign(document.createElement("div"), { className: "band" });
    overlay.appendChild(band);
    place(band, [start[0], start[1], 0, 0]);
  });
  overlay.addEventListener("pointermove", (event) => {
    if (drawing && start) place(band, bandBox(start, imagePoint(event)));
  });
  overlay.addEventListener("pointerup", (event) => {
    if (!drawing || !start) return;
    const box = bandBox(start, imagePoint(event));
    const which = drawing;
    stopDrawing();
    if (box[2] < 3 || box[3] < 3) { draw(); return; }  // a tap, not a rectangle
    if (which.add !== null) {
      adds[which.add].box = box;
      adds[which.add].position = null;
      selected = { add: which.add };
    } else {
      adds.push({ digit: null, box, line: null, position: null });
      selected = { add: adds.length - 1 };
    }
    draw();
  });
  overlay.addEventListener("pointercancel", () => { if (drawing) { stopDrawing(); draw(); } });
  // The keyboard too: with a box picked, a digit key relabels it, Delete marks it not a digit (or removes a
  // digit added), Escape closes the keys or stops drawing. Not while typing in a field.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && drawing) { stopDrawing(); draw(); return; }
    if (selected === null || event.target.closest("input, textarea") || event.ctrlKey || event.metaKey) return;
    if (/^[0-9]$/.test(event.key)) pickDigit(Number(event.key));
    else if (event.key === "Delete" || event.key === "Backspace") {
      if (selected.read !== undefined) fixes.set(selected.read, { op: "not_a_digit" });
      else { adds.splice(selected.add, 1); selected = null; }
      draw();
    } else if (event.key === "Escape") { selected = null; draw(); } else return;
    event.preventDefault();
  });

  $("add-digit").addEventListener("click", () => {
    if (drawing) { stopDrawing(); draw(); } else startDrawing({ add: null });
  });
  $("undo-all").addEventListener("click", () => { fixes = new Map(); adds = []; selected = null; stopDrawing(); draw(); });
  document.querySelectorAll("#picker .key").forEach((key) => {
    key.addEventListener("click", () => pickDigit(Number(key.dataset.digit)));
  });
  $("pick-not-digit").addEventListener("click", () => {
    if (selected && selected.read !== undefined) { fixes.set(selected.read, { op: "not_a_digit" }); draw(); }
  });
  $("pick-as-read").addEventListener("click", () => {
    if (selected && selected.read !== undefined) { fixes.delete(selected.read); draw(); }
  });
  $("pick-remove").addEventListener("click", () => {
    if (selected && selected.add !== undefined) { adds.splice(selected.add, 1); selected = null; draw(); }
  });
  $("pick-close").addEventListener("click", () => { selected = null; draw(); });
  $("digits").addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-index]");
    if (row) select({ read: Number(row.dataset.index) });
  });

  window.DigitScanEditor = { load };
})();
