// "My location" on the search form: asks the browser for the position (only when chosen) and
// puts it in the hidden lat/lng fields; if refused, says so and the person picks a city.
(function () {
  "use strict";
  var select = document.querySelector("select[data-locate]");
  if (!select || !navigator.geolocation) { return; }
  var form = select.form;
  var status = document.getElementById("f-place-status");
  function locate() {
    if (select.value !== "here") { return; }
    status.textContent = status.getAttribute("data-locating");
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.lat.value = position.coords.latitude.toFixed(5);
      form.elements.lng.value = position.coords.longitude.toFixed(5);
      status.textContent = "";
    }, function () {
      status.textContent = status.getAttribute("data-refused");
    }, { timeout: 10000, maximumAge: 600000 });
  }
  select.addEventListener("change", locate);
  if (!form.elements.lat.value) { locate(); }
})();
