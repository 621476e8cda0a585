// Click-to-play: no request goes to the video host until the visitor presses Play.
// Without JavaScript the same link opens the privacy-enhanced player page itself.
(function () {
  "use strict";
  document.querySelectorAll("[data-player] .play-link").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var frame = document.createElement("iframe");
      frame.src = link.dataset.embedUrl;
      frame.title = link.dataset.playerTitle;
      frame.allow = "autoplay; fullscreen; picture-in-picture";
      frame.allowFullscreen = true;
      frame.referrerPolicy = "strict-origin-when-cross-origin";
      frame.className = "player-iframe";
      var container = link.closest("[data-player]");
      container.replaceChildren(frame);
      frame.focus();
    });
  });
})();
