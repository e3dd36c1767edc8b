// Training pages: live run progress and chart, evaluation and playground polling.
// No inline scripts (CSP): everything hangs off data-* attributes in the templates.
(function () {
  "use strict";
  var POLL_MS = 2000;
  var W = 320, H = 140, PAD = 24;
  var PANELS = [
    [["loss", "metrics", "train"], ["eval_loss", "evals", "eval"]],
    [["lr", "metrics", "lr"]],
    [["tokens_per_s", "metrics", "tps"]],
    [["memory_mb", "metrics", "mem"]],
  ];
  var ACTIVE = { queued: true, running: true };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function points(series, xMax, yMin, yMax) {
    var span = (yMax - yMin) || 1;
    return series.map(function (p) {
      var x = PAD + (W - 2 * PAD) * (xMax ? p[0] / xMax : 0);
      var y = H - PAD - (H - 2 * PAD) * ((p[1] - yMin) / span);
      return x.toFixed(1) + "," + y.toFixed(1);
    }).join(" ");
  }

  function drawCharts(run) {
    var figures = document.querySelectorAll("#run-charts .run-chart");
    var xMax = Math.max(run.total_steps, 1);
    PANELS.forEach(function (lines, i) {
      var figure = figures[i];
      if (!figure) { return; }
      var all = [], bySeries = lines.map(function (line) {
        var s = (run[line[1]] || []).filter(function (p) { return typeof p[line[0]] === "number"; })
          .map(function (p) { return [p.step, p[line[0]]]; });
        s.forEach(function (p) { all.push(p[1]); });
        return s;
      });
      var yMin = all.length ? Math.min.apply(null, all) : 0;
      var yMax = all.length ? Math.max.apply(null, all) : 1;
      var polylines = figure.querySelectorAll("polyline");
      bySeries.forEach(function (s, j) {
        if (polylines[j]) { polylines[j].setAttribute("points", points(s, xMax, yMin, yMax)); }
      });
      var range = figure.querySelector("figcaption small");
      if (range) { range.textContent = yMin.toPrecision(4) + " – " + yMax.toPrecision(4); }
    });
  }

  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }

  function watchRun(root) {
    var url = root.getAttribute("data-run-url");
    var first = null;
    function tick() {
      getJSON(url).then(function (run) {
        field(root, "status").textContent = run.status;
        field(root, "phase").textContent = run.phase;
        field(root, "step").textContent = run.step;
        field(root, "total_steps").textContent = run.total_steps;
        var bar = field(root, "progress");
        bar.max = Math.max(run.total_steps, 1);
        bar.value = run.step;
        var now = Date.now();
        if (!first || run.step < first.step) { first = { t: now, step: run.step }; }
        var done = run.step - first.step;
        if (done > 0 && run.total_steps > run.step) {
          var left = (now - first.t) / done * (run.total_steps - run.step) / 1000;
          field(root, "eta").textContent = "about " + Math.ceil(left) + " s left";
        }
        var failure = field(root, "failure_reason");
        failure.textContent = run.failure_reason;
        failure.hidden = !run.failure_reason;
        var log = document.querySelector('[data-field="log_tail"]');
        if (log) { log.textContent = (run.log_tail || []).join("\n"); }
        drawCharts(run);
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
