// A pending booking's page asks for its status every two seconds and shows the new page once
// the payment's webhook has landed (confirmed, or declined and released). Without JavaScript
// the page has a refresh link instead.
(function () {
  "use strict";
  var status = document.getElementById("status");
  if (!status || status.getAttribute("data-status") !== "pending") { return; }
  var url = status.getAttribute("data-poll-url");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (body) {
        if (body && body.status !== "pending") {
          status.textContent = body.message;
          window.location.reload();
        } else if (tries < 450) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { if (tries < 450) { window.setTimeout(poll, 5000); } });
  }
  window.setTimeout(poll, 1000);
})();
