// Accessibility fixes for widgets of Django's admin that CSS alone cannot fix.
//
// select2 (autocomplete fields such as "Organisation") names its combobox after the chosen
// value only, so while nothing is chosen (every add form) a screen reader hears an unnamed
// field (axe: aria-input-field-name). Give it the name of the field's own <label>.
(function () {
  "use strict";

  function labelAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete[id]").forEach(function (select) {
      var rendered = document.getElementById("select2-" + select.id + "-container");
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (rendered && label && !rendered.hasAttribute("aria-label")) {
        rendered.setAttribute("aria-label", label.textContent.trim().replace(/:$/, ""));
      }
    });
  }

  // select2 builds its markup in a jQuery ready handler, whose timing is not ours to know.
  new MutationObserver(labelAutocompletes).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
  document.addEventListener("DOMContentLoaded", labelAutocompletes);
})();
