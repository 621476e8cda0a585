// "My plan": saved resources live only in this browser (localStorage), never in a cookie.
// The buttons are created here, so visitors without JavaScript never see a dead button.
(function () {
  "use strict";
  var KEY = "hub-plan-v1";
  var LIMIT = 30;
  var strings = (document.getElementById("plan-strings") || {}).dataset || {};

  function load() {
    try {
      var value = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(value) ? value.filter(function (s) { return typeof s === "string"; }) : [];
    } catch (error) {
      return [];
    }
  }

  function store(slugs) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(slugs.slice(0, LIMIT)));
    } catch (error) {
      // Storage full or blocked: the page still works, the plan is just not kept.
    }
  }

  function planQuery(slugs) {
    var params = new URLSearchParams();
    slugs.slice(0, LIMIT).forEach(function (slug) { params.append("r", slug); });
    return params.toString();
  }

  function render(button, saved) {
    button.setAttribute("aria-pressed", saved ? "true" : "false");
    button.textContent = saved ? strings.saved : strings.save;
  }

  function saveButton(slot) {
    var slug = slot.dataset.planSlug;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-secondary plan-toggle";
    render(button, load().indexOf(slug) !== -1);
    button.addEventListener("click", function () {
      var slugs = load();
      var index = slugs.indexOf(slug);
      if (index === -1) {
        slugs.push(slug);
      } else {
        slugs.splice(index, 1);
      }
      store(slugs);
      render(button, index === -1);
    });
    slot.replaceChildren(button);
  }

  function removeButton(slot, status) {
    var slug = slot.dataset.planSlug;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-secondary plan-remove";
    button.textContent = strings.remove;
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = ": " + slot.dataset.planTitle;
    button.appendChild(label);
    button.addEventListener("click", function () {
      store(load().filter(function (s) { return s !== slug; }));
      var item = slot.closest("[data-plan-item]");
      var remaining = [];
      document.querySelectorAll("[data-plan-item]").forEach(function (other) {
        if (other !== item) { remaining.push(other.dataset.planItem); }
      });
      item.remove();
      var query = planQuery(remaining);
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
      if (status) { status.textContent = strings.removed; }
      var heading = document.querySelector("[data-plan-page] h1");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    });
    slot.replaceChildren(button);
  }

  function planPage(page) {
    var params = new URLSearchParams(window.location.search);
    if (!params.has("r")) {
      var slugs = load();
      if (slugs.length) {
        window.location.replace(window.location.pathname + "?" + planQuery(slugs));
        return;
      }
    }
    var needsJs = page.querySelector("[data-plan-needs-js]");
    if (needsJs) { needsJs.remove(); }
    var hint = page.querySelector("[data-plan-print]");
    if (hint) {
      var print = document.createElement("button");
      print.type = "button";
      print.className = "button plan-print";
      print.textContent = strings.print;
      print.addEventListener("click", function () { window.print(); });
      var wrapper = document.createElement("p");
      wrapper.className = "no-print";
      wrapper.appendChild(print);
      hint.replaceWith(wrapper);
    }
    var status = page.querySelector("[data-plan-status]");
    page.querySelectorAll(".plan-remove-slot").forEach(function (slot) { removeButton(slot, status); });
  }

  var page = document.querySelector("[data-plan-page]");
  if (page) { planPage(page); }
  document.querySelectorAll(".plan-slot").forEach(saveButton);
})();
