// Duplicates page: follow a running search until it finishes; confirm the bulk action.
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  var job = document.getElementById("dedup-job");
  if (!job || job.dataset.finished === "1") { return; }
  var poll = function () {
    fetch(job.dataset.jobUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        if (data.status === "succeeded" || data.status === "failed") { window.location.reload(); return; }
        document.getElementById("dedup-status").textContent = data.status;
        document.getElementById("dedup-progress").value = Math.round(data.progress * 100);
        document.getElementById("dedup-counts").textContent =
          data.examples_processed + " of " + data.examples_total + " examples read" + (data.stage ? " · " + data.stage : "");
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  };
  window.setTimeout(poll, 500);
})();
