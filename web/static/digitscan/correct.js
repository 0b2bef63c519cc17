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

  // The corrected reading's lines, in order, each a list of {digit, box, uncertain, line} (the server's
  // corrected_reading, without separators), keyed by the reading's line numbers.
  function correctedLines() {
    const lines = new Map();
    const put = (line) => lines.get(line) || lines.set(line, []).get(line);
    digits.forEach((d, index) => {
      const fix = fixes.get(index);
      if (fix && fix.op === "not_a_digit") return;
      put(d.line).push({ digit: fix ? fix.digit : d.digit, box: d.box, uncertain: d.uncertain && !fix, index });
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
    return [...lines.keys()].sort((a, b) => a - b).filter((n) => lines.get(n).length).map((n) => [n, lines.get(n)]);
  }

  function preview() {
    return correctedLines().map(([, l]) => l.map((i) => (i.digit === null ? "_" : i.digit) + (i.uncertain ? "?" : ""))
      .join("")).join(" ");
  }

  // Line numbers as the person sees them (the corrected lines, from 1), by the reading's line; "—" for a
  // line with no digit left.
  let shownLine = new Map();
  const lineNo = (readLine) => shownLine.get(readLine) || "—";
  const addLine = (add) => (add.line !== null && add.line !== undefined ? add.line : lineOf(add.box));

  function place(element, box) {
    element.style.left = pct(box[0] / W); element.style.top = pct(box[1] / H);
    element.style.width = pct(box[2] / W); element.style.height = pct(box[3] / H);
  }

  // A finger needs about 40 px (a small digit's box may be 4 px wide on a phone): each box's tap area
  // reaches out to that size, but never more than half way to a neighbouring box, so that no box hides
  // another. Set as --hit-* (px) for .box::before; again whenever the image's size changes (zoom, turn).
  const TARGET = 40;
  function fitTargets() {
    const rect = overlay.getBoundingClientRect();
    if (!rect.width || !W) return;
    const sx = rect.width / W, sy = rect.height / H;
    const buttons = Array.from(overlay.querySelectorAll(".box"));
    const boxes = buttons.map((b) => b.box.map((v, k) => v * (k % 2 ? sy : sx)));
    buttons.forEach((button, i) => {
      const [x, y, w, h] = boxes[i];
      let left = Math.max(0, (TARGET - w) / 2), right = left, top = Math.max(0, (TARGET - h) / 2), bottom = top;
      boxes.forEach(([ox, oy, ow, oh], j) => {
        if (j === i) return;
        if (oy < y + h + bottom && oy + oh > y - top) {  // beside it
          if (ox + ow <= x) left = Math.min(left, (x - ox - ow) / 2);
          else if (ox >= x + w) right = Math.min(right, (ox - x - w) / 2);
        }
        if (ox < x + w + right && ox + ow > x - left) {  // above or below it
          if (oy + oh <= y) top = Math.min(top, (y - oy - oh) / 2);
          else if (oy >= y + h) bottom = Math.min(bottom, (oy - y - h) / 2);
        }
      });
      [["--hit-l", left], ["--hit-r", right], ["--hit-t", top], ["--hit-b", bottom]]
        .forEach(([name, px]) => button.style.setProperty(name, Math.max(0, px).toFixed(1) + "px"));
    });
  }
  if (window.ResizeObserver) new ResizeObserver(() => fitTargets()).observe(overlay);

  function boxButton(box, classes, badge, title, pick) {
    const button = document.createElement("button");
    button.box = box;
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
    shownLine = new Map(correctedLines().map(([n], k) => [n, k + 1]));
    const buttons = digits.map((d, index) => {
      const fix = fixes.get(index);
      const state = !fix ? (d.uncertain ? "uncertain" : "") : fix.op === "not_a_digit" ? "rejected"
        : fix.digit === d.digit ? "confirmed" : "relabelled";
      const badge = !fix ? "" : fix.op === "not_a_digit" ? "✕" : String(fix.digit);
      const title = say("box", { n: index + 1, line: lineNo(d.line), digit: d.digit, confidence: sure(d.confidence) });
      const selectedNow = selected && selected.read === index;
      return boxButton(d.box, state + (selectedNow ? " selected" : ""), badge, title, () => select({ read: index }));
    });
    adds.forEach((add, k) => {
      if (!add.box) return;
      const title = say("added", { digit: add.digit === null ? "?" : add.digit, line: lineNo(addLine(add)) });
      const selectedNow = selected && selected.add === k;
      buttons.push(boxButton(add.box, "added" + (selectedNow ? " selected" : ""),
        add.digit === null ? "?" : String(add.digit), title, () => select({ add: k })));
    });
    overlay.replaceChildren(...buttons);
    fitTargets();
    drawTable();
    drawUnplaced();
    drawPicker();
    const ops = operations();
    const count = (kind) => ops.filter((op) => op.op === kind).length;
    $("preview").textContent = preview() || WORDS.empty;
    const incomplete = adds.some((a) => a.digit === null);
    const loose = adds.filter((a) => !a.box && a.digit !== null).length;
    const changed = JSON.stringify(ops) !== initial;
    // "Corrected reading:" once there is something corrected (sent before, or changed now).
    $("preview-line").hidden = !ops.length && !changed;
    const confirmed = ops.filter((op) => op.op === "relabel" && op.digit === digits[op.index].digit).length;
    const parts = [["n_changed", count("relabel") - confirmed], ["n_confirmed", confirmed],
                   ["n_rejected", count("not_a_digit")], ["n_added", count("add")]]
      .filter(([, n]) => n).map(([key, n]) => say(key, { n }));
    $("editor-summary").textContent = incomplete ? WORDS.needs_digit : !ops.length && !changed ? WORDS.nothing
      : say("changes", { list: parts.join(WORDS.list_separator) || WORDS.as_read })
        + (loose ? " " + say("no_box", { n: loose }) : "");
    $("operations").value = JSON.stringify(ops);
    $("send-operations").disabled = incomplete || !changed;
  }

  function drawTable() {
    document.querySelectorAll("#digits tbody tr[data-index]").forEach((row) => {
      const index = Number(row.dataset.index);
      const fix = fixes.get(index);
      const cell = row.querySelector(".fix");
      if (cell) cell.textContent = !fix ? "" : fix.op === "not_a_digit" ? WORDS.not_a_digit : String(fix.digit);
      const line = row.querySelector(".line");
      if (line && digits[index]) line.textContent = fix && fix.op === "not_a_digit" ? "—" : lineNo(digits[index].line);
      row.classList.toggle("selected", Boolean(selected && selected.read === index));
    });
    // Each digit added, as a row of its own under the boxes read: "+", its line, its digit.
    const body = document.querySelector("#digits tbody");
    if (!body) return;
    body.querySelectorAll("tr.added").forEach((row) => row.remove());
    adds.forEach((add, k) => {
      const row = Object.assign(document.createElement("tr"), { className: "added" });
      row.dataset.add = k;
      const line = add.box || (add.line !== null && add.line !== undefined) ? lineNo(addLine(add)) : "—";
      ["+", line, add.digit === null ? "?" : String(add.digit), "—", WORDS.added_row].forEach((value) => {
        row.appendChild(Object.assign(document.createElement("td"), { textContent: value }));
      });
      row.lastChild.className = "fix";
      row.classList.toggle("selected", Boolean(selected && selected.add === k));
      body.appendChild(row);
    });
    $("digits").hidden = digits.length + adds.length === 0;
  }

  function drawUnplaced() {
    const loose = adds.map((add, k) => [add, k]).filter(([add]) => !add.box);
    $("unplaced").hidden = loose.length === 0;
    $("unplaced-list").replaceChildren(...loose.map(([add, k]) => {
      const item = document.createElement("li");
      item.textContent = say("unplaced", { digit: add.digit, line: lineNo(add.line) }) + " ";
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
      $("picker-title").textContent = say("pick_read", { n: selected.read + 1, line: lineNo(d.line), digit: d.digit,
                                                         confidence: sure(d.confidence) });
    } else {
      const add = adds[selected.add];
      current = add.digit;
      $("picker-title").textContent = say("pick_added", { line: lineNo(addLine(add)) });
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
    foldTyping();
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
    // "(Esc stops)" only where there is a keyboard (digitscan.css hides .keyboard-only on touch screens).
    $("draw-hint").replaceChildren(add ? say("place", { digit: add.digit, line: lineNo(add.line) }) : WORDS.draw, " ",
      Object.assign(document.createElement("span"), { className: "keyboard-only", textContent: WORDS.escape }));
    $("draw-hint").hidden = false;
    foldTyping();
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
    const row = event.target.closest("tr[data-index], tr[data-add]");
    if (row) select(row.dataset.add !== undefined ? { add: Number(row.dataset.add) } : { read: Number(row.dataset.index) });
  });

  // One correction form at a time: while "Or type the digits" is open, the editor's own comment and send
  // button are hidden (two comment boxes and two send buttons confused people); tapping a box folds it.
  const typed = $("typed");
  function foldTyping() { if (typed && typed.open) typed.open = false; }
  function showForms() { $("operations-form").hidden = Boolean(typed && typed.open); }
  if (typed) typed.addEventListener("toggle", showForms);
  showForms();

  window.DigitScanEditor = { load };
})();
