// "Sort by distance from me" on the programme finder: progressive enhancement.
// The position is asked for only when the button is pressed, rounded to two decimals
// (about 1 km) here on the device, and sent only as the `near` parameter of this search.
(function () {
  "use strict";
  var form = document.querySelector("[data-near-form]");
  var button = document.querySelector("[data-near-me]");
  if (!form || !button || !("geolocation" in navigator)) {
    return;
  }
  var status = form.querySelector("[data-near-status]");
  var hint = form.querySelector("[data-near-hint]");
  button.hidden = false;
  if (hint) {
    hint.hidden = false;
    button.setAttribute("aria-describedby", hint.id);
  }
  function say(text) {
    if (status) {
      status.textContent = text;
      status.classList.remove("visually-hidden");
    }
  }
  button.addEventListener("click", function () {
    say(button.dataset.locating);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var near = form.querySelector("input[name=near]");
        if (!near) {
          near = document.createElement("input");
          near.type = "hidden";
          near.name = "near";
          form.appendChild(near);
        }
        near.value =
          position.coords.latitude.toFixed(2) + "," + position.coords.longitude.toFixed(2);
        form.submit();
      },
      function () {
        say(button.dataset.failed);
      },
      { enableHighAccuracy: false, maximumAge: 600000, timeout: 15000 }
    );
  });
})();
