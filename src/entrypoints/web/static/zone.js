// The visitor's time zone, from the browser: it fills every hidden `tz` field, and on a page
// shown in another zone (the URL names none yet) it asks for the page again in the visitor's.
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
    input.value = zone;
  });
  var shown = document.querySelector("[data-shown-zone]");
  var url = new URL(window.location.href);
  if (shown && shown.getAttribute("data-shown-zone") !== zone && !url.searchParams.has("tz")) {
    url.searchParams.set("tz", zone);
    window.location.replace(url.toString());
  }
})();
