// A "Print" button where scripts run; without them the page says how to print.
(function () {
  "use strict";
  document.querySelectorAll("[data-print-button]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
