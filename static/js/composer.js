/* The composer (issue 22): one box with Reply / Private note tabs, Ctrl+Enter (⌘+Enter) to send.
 * Without JavaScript both forms show one under the other; with it, the tabs appear and only the
 * open tab's form shows (as in Front and Chatwoot): Reply, unless only the note has a draft or
 * the channel cannot take a reply now (and offers no WhatsApp template, which the Reply tab
 * shows). The box stays compact until it is used (app.css: it grows while focused or holding
 * text). The keyboard's r and n (app.js) open their tab before focusing.
 * Wired again after the conversation pane is swapped (panes.js sends "pane:loaded").
 */
(function () {
  "use strict";

  function show(box, name, focus) {
    box.querySelectorAll("[role=tab]").forEach(function (tab) {
      var on = tab.getAttribute("data-tab") === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      // The other tab's form is hidden (app.css); the tab itself opens it.
      if (panel) panel.classList.toggle("inactive", !on);
    });
    box.classList.toggle("noting", name === "note");
    if (focus) {
      var area = box.querySelector(name === "note" ? "#note-text" : "#reply-text");
      if (area && !area.disabled) area.focus();
    }
  }

  function wire(event) {
    var box = document.querySelector("[data-composer]");
    if (!box || box.hasAttribute("data-wired")) return;
    box.setAttribute("data-wired", "");
    var tabs = box.querySelector(".composer-tabs");
    if (!tabs) return;
    tabs.hidden = false;
    box.classList.add("tabbed");  // the tabs name the box now: its long label folds away
    var reply = box.querySelector("#reply-text");
    var note = box.querySelector("#note-text");
    var start = "reply";
    // A reply refused with a WhatsApp template offered instead: the Reply tab holds the template.
    var refused = reply && reply.disabled && !box.querySelector("[data-template-form]");
    if (refused || (note && note.value.trim() && !(reply && reply.value.trim()))) {
      start = "note";
    }
    // Just sent in place (panes.js): the agent stays on the tab they wrote in.
    var sent = event && event.detail && event.detail.sent;
    if (sent === "note" || (sent === "reply" && !(reply && reply.disabled))) start = sent;
    show(box, start, false);
    tabs.addEventListener("click", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (tab) show(box, tab.getAttribute("data-tab"), true);
    });
    tabs.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      var current = tabs.querySelector("[aria-selected=true]");
      var next = current.getAttribute("data-tab") === "reply" ? "note" : "reply";
      show(box, next, false);
      tabs.querySelector("[data-tab=" + next + "]").focus();
      event.preventDefault();
    });
    // A press on a tab or a button leaves the focus where it is until the click lands: the box
    // folding or growing under the pointer (app.css) would otherwise send the click elsewhere.
    box.addEventListener("mousedown", function (event) {
      if (event.button === 0 && event.target.closest("[role=tab], button, .attach-button")) event.preventDefault();
    });
    box.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      var form = event.target.closest("form");
      if (!form || event.target.tagName !== "TEXTAREA") return;
      event.preventDefault();
      var send = form.querySelector("button[type=submit]:not([name])");
      if (form.requestSubmit) form.requestSubmit(send || undefined);
      else form.submit();
    });
  }

  // app.js's r and n focus a field; a field in a hidden tab is shown first.
  window.switchboardComposer = {
    reveal: function (field) {
      var box = document.querySelector("[data-composer]");
      var panel = field && field.closest("[role=tabpanel]");
      if (!box || !panel || !panel.classList.contains("inactive")) return;
      show(box, panel.id === "note-form" ? "note" : "reply", false);
    }
  };

  document.addEventListener("DOMContentLoaded", wire);
  document.addEventListener("pane:loaded", wire);
})();
