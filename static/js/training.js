// Training pages: live run progress and chart, evaluation and playground polling.
// No inline scripts (CSP): everything hangs off data-* attributes in the templates.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var ACTIVE = { queued: true, running: true };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  // The charts are drawn by the server (training/charts.py: axes, ticks, a marker per point);
  // while the run trains, a fresh copy of them is taken from this page whenever a step lands.
  function refreshCharts() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("run-charts");
        var current = document.getElementById("run-charts");
        if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
      });
  }

  // Hover (or focus) a marker: its step and value in a tooltip next to it.
  function chartTips() {
    var tip = document.getElementById("chart-tip");
    if (!tip) { return; }
    function show(event) {
      var pt = event.target;
      if (!pt.classList || !pt.classList.contains("pt")) { return; }
      var box = pt.getBoundingClientRect();
      tip.textContent = pt.getAttribute("data-label");
      tip.hidden = false;
      tip.style.left = (box.left + 8) + "px";
      tip.style.top = (box.top - 28) + "px";
      pt.classList.add("is-active");
    }
    function hide(event) {
      if (event.target.classList && event.target.classList.contains("pt")) {
        event.target.classList.remove("is-active");
        tip.hidden = true;
      }
    }
    document.addEventListener("mouseover", show);
    document.addEventListener("mouseout", hide);
  }

  function etaText(seconds) {
    if (seconds < 90) { return "about " + (seconds < 10 ? Math.max(Math.ceil(seconds), 1) : Math.round(seconds / 5) * 5) + " s left"; }
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) { return "about " + minutes + " min left"; }
    var h = Math.floor(minutes / 60), m = minutes % 60;
    return "about " + h + " h" + (m ? " " + m + " min" : "") + " left";
  }

  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }

  function watchRun(root) {
    var url = root.getAttribute("data-run-url");
    var drawn = null;
    function tick() {
      getJSON(url).then(function (run) {
        field(root, "status").textContent = run.status;
        field(root, "phase").textContent = run.phase;
        field(root, "step").textContent = run.step;
        field(root, "total_steps").textContent = run.total_steps;
        var bar = field(root, "progress");
        bar.max = Math.max(run.total_steps, 1);
        bar.value = run.step;
        // The server's estimate from measured step times (training/eta.py), never a guess
        // from the first poll, whose slow warm-up step would make the estimate climb.
        field(root, "eta").textContent =
          typeof run.eta_seconds === "number" && run.eta_seconds >= 1 && ACTIVE[run.status]
            ? etaText(run.eta_seconds) : "";
        var failure = field(root, "failure_reason");
        failure.textContent = run.failure_reason;
        failure.hidden = !run.failure_reason;
        var log = document.querySelector('[data-field="log_tail"]');
        if (log) { log.textContent = (run.log_tail || []).join("\n"); }
        var seen = run.step + "/" + (run.evals || []).length;
        // The page came with fresh charts: redraw only once a step or an evaluation lands.
        if (drawn === null) { drawn = seen; }
        else if (seen !== drawn) { drawn = seen; refreshCharts().catch(function () { drawn = ""; }); }
        if (ACTIVE[run.status]) { window.setTimeout(tick, POLL_MS); }
        else if (ACTIVE[root.getAttribute("data-status")]) { window.location.reload(); }
      }).catch(function () { window.setTimeout(tick, POLL_MS * 3); });
    }
    tick();
  }

  function reloadWhen(url, isDone) {
    function tick() {
      getJSON(url).then(function (data) {
        if (isDone(data)) { window.location.reload(); } else { window.setTimeout(tick, POLL_MS); }
      }).catch(function () { window.setTimeout(tick, POLL_MS * 3); });
    }
    window.setTimeout(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    chartTips();
    var run = document.getElementById("run-live");
    if (run && ACTIVE[run.getAttribute("data-status")]) { watchRun(run); }
    var evaluation = document.getElementById("eval-pending");
    if (evaluation) {
      reloadWhen(evaluation.getAttribute("data-model-url"), function (m) {
        return m.eval_status === "done" || m.eval_status === "failed";
      });
    }
    var pending = document.querySelector("[data-playground-url]");
    if (pending) {
      reloadWhen(pending.getAttribute("data-playground-url"), function (p) {
        return p.status === "done" || p.status === "failed";
      });
    }
  });
})();
