// Upload with a progress bar, then follow the import job until it finishes.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  var form = document.getElementById("import-form");
  if (form) {
    var input = document.getElementById("import-file");
    var zone = document.getElementById("dropzone");
    var chosen = document.getElementById("dropzone-file");
    var showName = function () {
      chosen.textContent = input.files.length ? input.files[0].name + " (" + input.files[0].size + " bytes)" : "";
    };
    input.addEventListener("change", showName);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer.files.length) { input.files = event.dataTransfer.files; showName(); }
    });
    form.addEventListener("submit", function (event) {
      if (!input.files.length) { return; }
      var limit = parseInt(form.dataset.maxBytes, 10);
      if (limit && input.files[0].size > limit) {
        event.preventDefault();
        chosen.textContent = "This file is larger than the server's limit of " + limit + " bytes.";
        return;
      }
      event.preventDefault();
      var bar = document.getElementById("upload-bar");
      document.getElementById("upload-progress").hidden = false;
      document.getElementById("import-submit").disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400 && xhr.responseURL && xhr.responseURL !== window.location.href) {
          window.location = xhr.responseURL;
        } else {
          document.open(); document.write(xhr.responseText); document.close();
        }
      });
      xhr.addEventListener("error", function () {
        document.getElementById("import-submit").disabled = false;
        chosen.textContent = "The upload failed (network error). Try again.";
      });
      xhr.send(new FormData(form));
    });
  }

  var job = document.getElementById("job");
  if (job && job.dataset.finished !== "1") {
    var poll = function () {
      fetch(job.dataset.jobUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (data) {
          var status = document.getElementById("job-status");
          status.textContent = data.status;
          status.className = "status status-" + data.status;
          document.getElementById("job-progress").value = Math.round(data.progress * 100);
          document.getElementById("job-counts").textContent =
            data.rows_processed + " rows read · " + data.rows_valid + " valid · " + data.rows_invalid +
            " invalid · " + data.duplicates_in_file + " duplicates in the file · " + data.duplicates_in_dataset +
            " already in the dataset · " + data.examples_created + " examples created";
          if (data.status === "succeeded" || data.status === "failed") {
            window.location.reload();
          } else {
            window.setTimeout(poll, 700);
          }
        })
        .catch(function (err) {
          var failure = document.getElementById("job-failure");
          failure.hidden = false;
          failure.textContent = "Could not read the import's progress (" + err.message + "); retrying…";
          window.setTimeout(poll, 2000);
        });
    };
    window.setTimeout(poll, 500);
  }
})();
