// An action job's progress (templates/actions/_progress.html): poll its status endpoint, move the
// bar, and when it ends open its result (through its status page, which says what was done) or
// show why it failed. Without JavaScript the status page refreshes itself instead.
(function () {
  "use strict";

  var box = document.getElementById("action-job");
  if (!box || box.dataset.finished === "1") { return; }
  var bar = document.getElementById("action-job-progress");
  var status = document.getElementById("action-job-status");
  var stage = document.getElementById("action-job-stage");
  var failure = document.getElementById("action-job-failure");
  var details = document.getElementById("action-job-details");

  function stageText(data) {
    var parts = [data.stage || (data.status === "queued" ? "Waiting for a worker" : "")];
    if (data.total) { parts.push(data.done + " of " + data.total); }
    if (data.elapsed_s !== null) { parts.push(data.elapsed_s + " s so far"); }
    var text = parts.filter(Boolean).join(" · ");
    if (data.previous_s !== null) { text += " (the last one took " + data.previous_s + " s)"; }
    return text;
  }

  var LABELS = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

  function show(data) {
    status.textContent = LABELS[data.status] || data.status; // as the page itself prints it
    status.className = "status status-" + data.status;
    if (data.progress === null) {
      bar.removeAttribute("value"); // indeterminate: the amount of work is not known yet
    } else {
      bar.value = Math.round(data.progress * 100);
    }
    stage.textContent = stageText(data);
  }

  function fail(data) {
    document.getElementById("action-job-running").hidden = true;
    var note = document.getElementById("action-job-note");
    if (note) { note.hidden = true; }
    stage.textContent = "Failed after " + (data.elapsed_s || 0) + " s";
    failure.hidden = false;
    failure.textContent = data.failure_reason;
    details.textContent = "";
    (data.failure_details || []).forEach(function (d) {
      var item = document.createElement("li");
      item.textContent = (d.path ? d.path + ": " : "") + d.message;
      details.appendChild(item);
    });
    details.hidden = !details.childElementCount;
    var back = document.getElementById("action-job-back");
    if (back) { back.textContent = "Back to the form"; }
  }

  var poll = function () {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        show(data);
        if (data.status === "succeeded") {
          window.location.assign(box.dataset.pageUrl);
        } else if (data.status === "failed") {
          box.dataset.finished = "1";
          fail(data);
        } else {
          failure.hidden = true;
          window.setTimeout(poll, 600);
        }
      })
      .catch(function (err) {
        failure.hidden = false;
        failure.textContent = "Could not read the job's progress (" + err.message + "); retrying…";
        window.setTimeout(poll, 2000);
      });
  };
  window.setTimeout(poll, 300);
})();
