// My queue: digit keys 1-5 pick the rating (static/js/shortcuts.js handles the letters).
// Ignored while typing in a field, like the letters.
(function () {
  "use strict";
  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable ||
      (tag === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/i.test(target.type));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) { return; }
    var dialog = document.getElementById("shortcut-help");
    if (dialog && dialog.open) { return; }
    if (!/^[1-5]$/.test(event.key)) { return; }
    var radio = document.querySelector('[data-rating-key="' + event.key + '"]');
    if (radio) {
      radio.checked = true;
      event.preventDefault();
    }
  });
  document.documentElement.setAttribute("data-queue-keys", "ready");
})();
