// A "copy" button for a read-only field: shown only when the browser can copy; without
// JavaScript the field's text can be selected and copied by hand.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var done = document.querySelector("[data-copy-done]");
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (done) { done.textContent = done.getAttribute("data-copied-text"); }
      }, function () { field.select(); });
    });
  });
  document.querySelectorAll("input[data-copy-source]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
})();
