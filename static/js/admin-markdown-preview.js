// Live preview of a guide's Markdown body in the admin's change form.
//
// The textarea carries the endpoint and the (translated) labels as data attributes
// (resources/preview.py, MarkdownPreviewTextarea). The server renders the text through the
// site's one sanitiser, so the preview shows exactly what the public page would.
// Typing updates the preview after a pause; the button updates it at once. Only the button
// and failures are announced to screen readers: announcing every pause would talk over typing.
(function () {
  "use strict";

  var DELAY_MS = 600;

  function csrfToken(textarea) {
    var form = textarea.form;
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setUp(textarea, index) {
    var headingId = "markdown-preview-heading-" + index;
    var wrapper = document.createElement("div");
    wrapper.className = "markdown-preview";

    var heading = document.createElement("h3");
    heading.id = headingId;
    heading.textContent = textarea.dataset.previewHeading;

    var button = document.createElement("button");
    button.type = "button";
    button.className = "button markdown-preview-button";
    button.textContent = textarea.dataset.previewButton;

    var status = document.createElement("p");
    status.className = "markdown-preview-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    var output = document.createElement("div");
    output.className = "markdown-preview-output";
    output.setAttribute("role", "region");
    output.setAttribute("aria-labelledby", headingId);
    output.setAttribute("aria-live", "off");

    wrapper.append(heading, button, status, output);
    textarea.insertAdjacentElement("afterend", wrapper);

    var timer = null;
    var latest = 0;

    function update(announce) {
      var request = ++latest;
      var body = new FormData();
      body.append("body", textarea.value);
      fetch(textarea.dataset.markdownPreviewUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea) },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.text();
        })
        .then(function (html) {
          if (request !== latest) {
            return; // an older answer arriving late must not replace a newer one
          }
          // Sanitised by the server (nh3 allow-list), like the public page.
          output.innerHTML = html;
          status.textContent = announce ? textarea.dataset.previewUpdated : "";
        })
        .catch(function () {
          if (request === latest) {
            status.textContent = textarea.dataset.previewFailed;
          }
        });
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        update(false);
      }, DELAY_MS);
    });
    button.addEventListener("click", function () {
      window.clearTimeout(timer);
      update(true);
    });
    if (textarea.value.trim()) {
      update(false);
    }
  }

  function start() {
    document
      .querySelectorAll("textarea[data-markdown-preview-url]")
      .forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
