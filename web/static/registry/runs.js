// The run pages' live parts (web/registry/run_views.py answers both, for staff only):
// - progress: while a run shown on the page is queued or running, ask for its progress every few
//   seconds and update its bar, percent and times in place; stop once none is open;
// - the retrain add form's estimated duration, asked again (debounced) whenever a field changes.
// Every text shown comes from the server or the page, in the reader's language.
(function () {
  "use strict";

  var EVERY_MS = 2000;

  function openIds() {
    var ids = [];
    document.querySelectorAll('[data-run-progress][data-open="1"]').forEach(function (el) {
      if (ids.indexOf(el.dataset.runProgress) < 0) ids.push(el.dataset.runProgress);
    });
    return ids;
  }

  function update(run) {
    document.querySelectorAll('[data-run-progress="' + run.id + '"]').forEach(function (el) {
      el.dataset.open = run.open ? "1" : "0";
      el.dataset.status = run.status;
      el.querySelectorAll("progress").forEach(function (bar) { bar.value = run.percent; });
      el.querySelectorAll(".run-percent").forEach(function (n) { n.textContent = run.percent_text; });
      el.querySelectorAll(".run-status").forEach(function (n) { n.textContent = run.status_label; });
      el.querySelectorAll(".run-text").forEach(function (n) { n.textContent = run.text; });
      el.querySelectorAll(".run-line").forEach(function (n) { n.textContent = run.last_line; });
    });
    if (!run.open) {
      document.querySelectorAll('.run-ended[data-run="' + run.id + '"]').forEach(function (n) { n.hidden = false; });
    }
  }

  function pollProgress(url) {
    function tick() {
      var ids = openIds();
      if (!ids.length) return;  // nothing queued or running here: stop asking
      fetch(url + "?ids=" + ids.join(","), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) data.runs.forEach(update); })
        .catch(function () { /* a dropped request: the next tick asks again */ })
        .then(function () { if (openIds().length) window.setTimeout(tick, EVERY_MS); });
    }
    window.setTimeout(tick, EVERY_MS);
  }

  function liveEstimate(box) {
    var form = box.closest("form");
    var timer = null;
    var asked = 0;
    function ask() {
      var query = new URLSearchParams();
      ["recipe", "epochs", "limit", "test_limit", "seed"].forEach(function (name) {
        var field = form.elements[name];
        if (field) query.set(name, field.value);
      });
      ["feedback", "dry_run"].forEach(function (name) {
        var field = form.elements[name];
        if (field && field.checked) query.set(name, "on");
      });
      var mine = ++asked;
      fetch(box.dataset.estimateUrl + "?" + query.toString(),
            {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== asked) return;  // an older answer arriving late
          var error = box.querySelector(".estimate-error");
          error.hidden = !data.error;
          error.textContent = data.error ? data.error.message : "";
          box.dataset.state = data.error ? "error" : "ok";
          if (data.error) return;
          box.querySelector(".estimate-text").textContent = data.text;
          box.querySelector(".estimate-detail").textContent = data.detail;  // in brackets of the page's language
          box.querySelector(".estimate-basis").textContent = data.basis;
          box.dataset.seconds = data.seconds;
        })
        .catch(function () {});
    }
    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 250);
    }
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var poll = document.getElementById("run-poll");
    if (poll) pollProgress(poll.dataset.progressUrl);
    var estimate = document.getElementById("retrain-estimate");
    if (estimate) liveEstimate(estimate);
  });
})();
