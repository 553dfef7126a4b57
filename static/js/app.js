// Deploynix front-end glue. No inline scripts anywhere (strict CSP): behaviour hangs off data- attributes.
(function () {
  "use strict";
  // htmx requests carry the CSRF token from the meta tag.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
  // <button data-copy="#id"> copies the text of the target element.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (target && navigator.clipboard) {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        var label = button.textContent; button.textContent = "Copied"; setTimeout(function () { button.textContent = label; }, 1500);
      });
    }
  });
  // The top bar's menu: on a narrow screen its links fold behind the Menu button. The button is
  // shown only here, so without script the menu simply stays open.
  function setUpMenu() {
    var bar = document.querySelector("[data-menu]");
    var button = bar && bar.querySelector(".menu-toggle");
    if (!button) { return; }
    bar.classList.add("menu-ready");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpMenu);
  } else { setUpMenu(); }
  // <form data-confirm="Really?"> asks before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
})();
