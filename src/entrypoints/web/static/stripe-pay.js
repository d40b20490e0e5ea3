// With Stripe configured: Stripe's Payment Element in our payment form. Stripe.js (loaded from
// Stripe, as Stripe requires) confirms the PaymentIntent and returns to the booking's page,
// which turns "confirmed" when Stripe's webhook reaches us.
(function () {
  "use strict";
  var form = document.getElementById("stripe-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret") });
  elements.create("payment").mount("#payment-element");
  var error = document.getElementById("stripe-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    form.querySelector("button").disabled = true;
    stripe.confirmPayment({
      elements: elements,
      confirmParams: { return_url: form.getAttribute("data-return-url") }
    }).then(function (result) {
      if (result.error) {
        error.textContent = result.error.message;
        form.querySelector("button").disabled = false;
      }
    });
  });
})();
