// Keyboard shortcuts: a key clicks the control marked data-shortcut="<key>" on the page
// (review: j/k/a/r/e), Ctrl+S (or Cmd+S) clicks data-shortcut="ctrl+s", "?" toggles the help
// dialog. Letter keys are ignored while typing in a field, so text can hold any letter.
(function () {
  "use strict";

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable ||
      (tag === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/i.test(target.type));
  }

  function press(selector) {
    var el = document.querySelector(selector);
    if (!el || el.disabled) { return false; }
    el.click();
    return true;
  }

  // lets tests (and anyone curious) know the keys are live on this page
  document.documentElement.setAttribute("data-shortcuts", "ready");
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "s" || event.key === "S")) {
      var save = document.querySelector('[data-shortcut="ctrl+s"]');
      if (save) {
        event.preventDefault();
        if (save.form && save.form.requestSubmit) { save.form.requestSubmit(save); } else { save.click(); }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) { return; }
    var dialog = document.getElementById("shortcut-help");
    if (event.key === "?") {
      if (dialog) {
        event.preventDefault();
        if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
      }
      return;
    }
    if (dialog && dialog.open) { return; }
    var key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (key && /^[a-z]$/.test(key) && press('[data-shortcut="' + key + '"]')) {
      event.preventDefault();
    }
  });
})();
