/* Switchboard: the three panes (views | list | conversation). Opening a conversation from the
   list swaps the right pane (#pane) through htmx and pushes its URL, the list's filters kept in
   the query string; Back / Forward put the pane of that URL back. A full load of the same URL
   renders the same three panes on the server (workspace/views/conversation.py). Below 1280 px
   the list and the conversation take turns (#workspace[data-open], static/css/app.css).
   After each swap "pane:loaded" tells the other modules (drafts, presence, mentions) to wire
   the new pane. Also here: the open conversation's details drawer in a narrow pane, and the top
   bar's menus. Plain JavaScript from a static file (the CSP forbids inline script). */
(function () {
  "use strict";

  var CONVERSATION = /^\/inbox\/conversations\/(\d+)\/$/;
  var emptyPane = "";
  var loading = null;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function pane() { return document.getElementById("pane"); }
  function workspace() { return document.getElementById("workspace"); }

  function openId() {
    var el = $("#pane [data-open-conversation]");
    return el ? el.getAttribute("data-open-conversation") : null;
  }

  // The row of the open conversation is marked (and stays marked when the feed redraws it:
  // app.js keeps the class).
  function markOpen() {
    var id = openId();
    $all("#rows tr.row.open").forEach(function (row) {
      if (row.getAttribute("data-conversation") !== id) { row.classList.remove("open"); row.removeAttribute("aria-current"); }
    });
    if (!id) return;
    var row = document.getElementById("row-" + id);
    if (!row) return;
    row.classList.add("open");
    row.setAttribute("aria-current", "true");
    // Opening it read its messages: the server cleared the marker, the row follows.
    row.classList.remove("unread");
    $all("[data-unread]", row).forEach(function (el) { el.remove(); });
  }

  /* The details of the open conversation: a column beside the thread, or, in a pane too narrow
     for both (app.css), a drawer over it behind the "Details" button. The drawer takes the focus
     when it opens; Escape or its close button shuts it and gives the focus back to the button. */
  function conv() { return $("#pane .conv"); }

  function wireDetails() {
    var c = conv();
    if (c) c.classList.add("has-drawer");  // without this script the details follow the composer
  }

  function setDetails(open, returnFocus) {
    var c = conv();
    if (!c) return;
    var toggle = $("[data-details-toggle]", c);
    var side = $(".conv-side", c);
    c.classList.toggle("details-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && side) side.focus();
    else if (returnFocus && toggle) toggle.focus();
  }

  // Shown as a drawer now (not a column beside the thread): the button to open it is visible.
  function detailsIsDrawer() {
    var c = conv();
    var toggle = c && $("[data-details-toggle]", c);
    return !!(toggle && toggle.offsetParent !== null);
  }

  function onDetailsClick(e) {
    if (e.target.closest("[data-details-toggle]")) {
      var c = conv();
      setDetails(!(c && c.classList.contains("details-open")), false);
    } else if (e.target.closest("[data-details-close]")) {
      setDetails(false, true);
    }
  }

  /* The top bar's menus (<details data-menu>, base.html): one open at a time, shut by a click
     elsewhere and by Escape (the focus back on its summary). */
  function onMenuToggle(e) {
    var menu = e.target;
    if (!menu.matches || !menu.matches("details[data-menu]") || !menu.open) return;
    $all("details[data-menu][open]").forEach(function (other) { if (other !== menu) other.open = false; });
  }

  function onMenuClick(e) {
    var inside = e.target.closest("details[data-menu]");
    $all("details[data-menu][open]").forEach(function (menu) { if (menu !== inside) menu.open = false; });
  }

  function onKeydown(e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    var menu = $("details[data-menu][open]");
    if (menu) {
      e.preventDefault();
      menu.open = false;
      $("summary", menu).focus();
      return;
    }
    var c = conv();
    if (c && c.classList.contains("details-open") && detailsIsDrawer()) {
      e.preventDefault();
      setDetails(false, true);
    }
  }

  function loaded(previous, sent) {
    var ws = workspace();
    var id = openId();
    if (ws) { if (id) ws.setAttribute("data-open", ""); else ws.removeAttribute("data-open"); }
    markOpen();
    wireDetails();
    var p = pane();
    if (p) p.scrollTop = 0;
    document.dispatchEvent(new CustomEvent("pane:loaded", { detail: { id: id, previous: previous, sent: sent } }));
  }

  /* Open a conversation's URL in the right pane; push it to the history unless it came from
     the history. Resolves once the pane shows it. */
  function open(url, push) {
    var p = pane();
    if (!p || !window.htmx) { location.href = url; return Promise.resolve(); }
    var previous = openId();
    var asked = url;
    var request = window.htmx.ajax("GET", url, { target: "#pane", swap: "innerHTML" });
    loading = request;
    return request.then(function () {
      if (loading !== request) return;  // a later click won
      if (push && location.pathname + location.search !== asked) history.pushState({ pane: asked }, "", asked);
      loaded(previous);
    });
  }

  function showList(url, push) {
    var p = pane();
    if (!p) return;
    var previous = openId();
    p.innerHTML = emptyPane;
    if (push) history.pushState({ pane: null }, "", url);
    loaded(previous);
  }

  // A conversation's URL with the list's filters (the current query string) kept.
  function withListQuery(href) {
    var url = new URL(href, location.href);
    if (!url.search && location.search) url.search = location.search;
    return url.pathname + url.search;
  }

  function onClick(e) {
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    if (!pane()) return;
    var back = e.target.closest("a[data-back-to-list]");
    if (back) { e.preventDefault(); showList(back.getAttribute("href"), true); return; }
    var row = e.target.closest("#rows tr.row");
    if (!row || e.target.closest("input, button, label, select")) return;
    var href = row.getAttribute("data-href");
    if (!href || !CONVERSATION.test(href)) return;
    e.preventDefault();
    open(withListQuery(href), true);
  }

  /* The reply and the note are sent in place: the pane comes back with the message in the
     thread and the outcome in the flash, the list beside it untouched. A form stopped by an
     earlier listener (over the limit, a draft save under way) is left alone; a redirect away
     from the conversation (the session ended: the text waits on the server) is followed as a
     page, and a network failure falls back to the plain POST. */
  var SENT_IN_PLACE = "#pane #reply-form, #pane #note-form";

  function joined(first, then) {
    if (!first) return then;
    if (!then || then === first) return first;
    return first + "\n\n" + then;
  }

  function onSubmit(e) {
    var form = e.target;
    if (e.defaultPrevented || !window.htmx || !form.matches || !form.matches(SENT_IN_PLACE)) return;
    e.preventDefault();
    var id = openId();
    var data = new FormData(form, e.submitter || undefined);
    var buttons = $all("button[type=submit]", form);
    buttons.forEach(function (b) { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    // The box is free at once for what comes next (the live feed may show the message before
    // this answer does); whatever is typed meanwhile is carried into the new pane.
    var area = $("textarea", form);
    var sentText = area ? area.value : "";
    if (area) area.value = "";
    function failed() {
      // Not posted again by itself (the server may have stored it): the text goes back in.
      buttons.forEach(function (b) { b.disabled = false; });
      form.removeAttribute("aria-busy");
      if (area && area.isConnected) area.value = joined(sentText, area.value);
      var flash = document.getElementById("flash");
      if (!flash) return;
      var p = document.createElement("p");
      p.className = "flash error";
      p.setAttribute("role", "alert");
      p.textContent = gettext("The connection failed before the answer came back. Your text is still in the box: check the thread, then send again.");
      flash.replaceChildren(p);
    }
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "HX-Target": "pane" },
    }).then(function (r) {
      var got = new URL(r.url);
      if (!CONVERSATION.test(got.pathname)) { location.href = r.url; return; }
      if (!r.ok) { failed(); return; }
      r.text().then(function (html) {
        var typed = {};
        $all("#pane textarea[id]").forEach(function (box) { typed[box.id] = box.value; });
        window.htmx.swap(pane(), html, { swapStyle: "innerHTML" });
        loaded(id, form.id === "note-form" ? "note" : "reply");
        Object.keys(typed).forEach(function (boxId) {
          var box = document.getElementById(boxId);
          if (!box || !typed[boxId] || box.value === typed[boxId]) return;
          // Kept by the server (a refused send, a saved draft) and typed since: both stay.
          box.value = area && boxId === area.id ? joined(box.value, typed[boxId]) : typed[boxId];
          box.dispatchEvent(new Event("input", { bubbles: true }));  // saved as the draft
        });
        if (window.switchboardFeed) window.switchboardFeed.showLatest();
      }, failed);
    }, failed);
  }

  function onPopState() {
    if (!pane()) return;
    var m = CONVERSATION.exec(location.pathname);
    if (m) open(location.pathname + location.search, false);
    else if (location.pathname === "/inbox/") showList(location.pathname + location.search, false);
  }

  window.switchboardPanes = {
    available: function () { return !!pane(); },
    open: function (href) { return open(withListQuery(href), true); },
    openId: openId,
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("toggle", onMenuToggle, true);  // "toggle" does not bubble
    document.addEventListener("click", onMenuClick);
    document.addEventListener("keydown", onKeydown);
    var p = pane();
    if (!p) return;
    wireDetails();
    document.addEventListener("click", onDetailsClick);
    // A pane redrawn by another module (htmx) gets its drawer back.
    document.addEventListener("htmx:afterSettle", wireDetails);
    var template = document.getElementById("pane-empty");
    emptyPane = template ? template.innerHTML : "";
    // The entry this page was loaded at gets a state too, so Back to it is ours to restore.
    history.replaceState({ pane: openId() ? location.pathname + location.search : null }, "", location.href);
    markOpen();
    document.addEventListener("click", onClick);
    document.addEventListener("submit", onSubmit);
    // A conversation the pane cannot show (gone, or out of the agent's teams): the page says why.
    document.addEventListener("htmx:responseError", function (e) {
      var target = e.detail && e.detail.target;
      if (target && target.id === "pane" && e.detail.pathInfo) location.href = e.detail.pathInfo.requestPath;
    });
    window.addEventListener("popstate", onPopState);
  });
})();
