/* The bell: its unread count follows the agent feed's "notifications" frames (dispatched by
   app.js as "feed:notifications"); the panel is fetched when opened and its forms post through
   htmx. Opening a notification's conversation marks it read. */
(function () {
  "use strict";

  var bell, panel, count;

  function $(sel, root) { return (root || document).querySelector(sel); }

  function setCount(label) {
    count.textContent = label;
    bell.classList.toggle("has-unread", label !== "0");
  }

  function load() {
    return htmx.ajax("GET", bell.getAttribute("data-url"), { target: "#notifications-panel", swap: "innerHTML" });
  }

  function open() {
    panel.hidden = false;
    bell.setAttribute("aria-expanded", "true");
    load().then(function () {
      var title = $("#notifications-title", panel);
      if (title) title.focus();
    });
  }

  function close(returnFocus) {
    panel.hidden = true;
    bell.setAttribute("aria-expanded", "false");
    if (returnFocus) bell.focus();
  }

  function markReadOnOpen(e) {
    var link = e.target.closest("a[data-notification][data-unread]");
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    var token = $("input[name=csrfmiddlewaretoken]", panel);
    if (!token) return;
    // Read first, then go: the conversation's page then shows the count without this one.
    e.preventDefault();
    var body = new FormData();
    body.append("csrfmiddlewaretoken", token.value);
    var go = function () { location.assign(link.href); };
    fetch(bell.getAttribute("data-url") + link.getAttribute("data-notification") + "/read/", {
      method: "POST", body: body, credentials: "same-origin", keepalive: true,
      headers: { "HX-Request": "true" },
    }).then(go, go);
  }

  document.addEventListener("DOMContentLoaded", function () {
    bell = $("#bell");
    panel = $("#notifications-panel");
    if (!bell || !panel || !window.htmx) return;
    count = $("[data-bell-count]", bell);
    bell.addEventListener("click", function () {
      if (panel.hidden) open(); else close(false);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !panel.hidden) { e.preventDefault(); close(true); }
    });
    document.addEventListener("click", function (e) {
      if (!panel.hidden && !e.target.closest("[data-bell]")) close(false);
    });
    panel.addEventListener("click", markReadOnOpen);
    panel.addEventListener("htmx:afterSwap", function () {
      var section = $("[data-panel-unread]", panel);
      if (section) setCount(section.getAttribute("data-panel-unread"));
    });
    document.addEventListener("feed:notifications", function (e) {
      setCount(e.detail.label || String(e.detail.unread));
      if (!panel.hidden) load();
    });
  });
})();
