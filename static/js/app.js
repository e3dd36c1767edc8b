// Page behaviour shared by the workspace: visible errors for failed htmx requests, row
// selection for bulk actions, and the help dialog. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";

  var box = function () { return document.getElementById("request-error"); };

  function showError(text) {
    var el = box();
    if (!el) { return; }
    el.textContent = text;
    el.hidden = false;
  }

  document.addEventListener("htmx:beforeRequest", function () {
    var el = box();
    if (el) { el.hidden = true; }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    var text = status === 403 ? "You do not have permission to do that." :
      status === 404 ? "Not found: it may have been deleted." :
      status >= 500 ? "The server failed (" + status + "). Nothing was lost; try again." :
      "The request failed (" + status + ").";
    showError(text);
  });
  document.addEventListener("htmx:sendError", function () {
    showError("Could not reach the server. Check your connection and try again.");
  });
  document.addEventListener("htmx:timeout", function () {
    showError("The server took too long to answer. Try again.");
  });

  function updateSelection() {
    var boxes = document.querySelectorAll("#bulk-form input[name=ids]");
    var checked = document.querySelectorAll("#bulk-form input[name=ids]:checked").length;
    var count = document.getElementById("selected-count");
    if (count) { count.textContent = String(checked); }
    var all = document.getElementById("select-all");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      document.querySelectorAll("#bulk-form input[name=ids]").forEach(function (b) { b.checked = target.checked; });
    }
    if (target.id === "select-all" || target.name === "ids") { updateSelection(); }
  });
  document.addEventListener("htmx:afterSettle", updateSelection);

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-help-open]");
    if (opener) {
      var dialog = document.getElementById("shortcut-help");
      if (dialog && !dialog.open) { dialog.showModal(); }
    }
  });
})();
