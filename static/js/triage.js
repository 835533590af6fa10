/* Switchboard: the conversation's triage panel in place (htmx swaps #triage; see
   workspace/views/triage.py). This module fills in what the server cannot know (the browser's
   time zone for snooze presets), keeps the Agent list to the chosen team's members, retires the
   Undo after its window, refreshes a list row (app.js's refreshRow) and the view counts when a
   triage action names a conversation, and redraws the parts a colleague's change touched. Plain JavaScript from a static file (the CSP forbids inline script). */
(function () {
  "use strict";

  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function browserZone() {
    // The agent's own zone (their profile), else the browser's.
    var chosen = document.body.getAttribute("data-tz");
    if (chosen) return chosen;
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function fillZone(root) {
    var zone = browserZone();
    $all("input[data-browser-tz]", root).forEach(function (input) { input.value = zone; });
  }

  // Agent: only the members of the chosen team (all agents when no team is chosen).
  function filterAgents(teamSelect, keepSelected) {
    var agents = document.getElementById(teamSelect.getAttribute("data-agent-select"));
    if (!agents) return;
    var team = teamSelect.value;
    $all("option[data-teams]", agents).forEach(function (option) {
      var member = !team || (" " + option.getAttribute("data-teams") + " ").indexOf(" " + team + " ") >= 0;
      var keep = member || (keepSelected && option.selected);
      option.hidden = !keep;
      option.disabled = !keep;
      if (!keep && option.selected) agents.value = "";
    });
  }

  function wireTeams(root) {
    $all("select[data-agent-select]", root).forEach(function (select) {
      filterAgents(select, true);
      select.addEventListener("change", function () { filterAgents(select, false); });
    });
  }

  // The Undo after Resolve goes away when its window is over (the server refuses nothing: an
  // undo that arrives late still reopens, and the survey task finds the conversation open).
  function armUndo(root) {
    $all("form[data-undo-ms]", root).forEach(function (form) {
      var ms = parseInt(form.getAttribute("data-undo-ms"), 10) || 0;
      setTimeout(function () { form.remove(); }, ms);
    });
  }

  function wire(root) {
    fillZone(root);
    wireTeams(root);
    armUndo(root);
  }

  /* --- a colleague's change, live ---------------------------------------------------------
     The live feed (app.js, "feed:event") says which conversation changed and how; when it is
     the one open here, the parts of the panel it touched are drawn afresh (GET .../triage/) and
     put in place. A part the agent is using (focus in it, a choice picked but not yet sent, a
     post of theirs still out) waits until they leave it; text typed in a box is carried over.
     Each part remembers the newest event it shows, so the agent's own change, whose answer
     drew the part already, is not fetched again. */
  var PARTS = ["tags-panel", "severity-form", "assign-panel", "status-panel"];
  var REFRESH_DELAY_MS = 150;
  var shows = {};  // part id -> newest event of the open conversation it shows
  var wanted = {};  // part id -> newest event it should show
  var fetching = false;
  var refreshTimer = null;

  function panel() { return document.getElementById("triage"); }
  function panelConversation() { var t = panel(); return t ? t.getAttribute("data-conversation-id") : null; }

  function partsFor(event) {
    var changes = (event.data && event.data.changes) || {};
    switch (event.type) {
      case "conversation.tagged":
      case "conversation.untagged":
        return ["tags-panel"];
      case "conversation.assigned":
        return ["assign-panel"];
      case "conversation.updated": {
        var parts = [];
        if ("severity" in changes) parts.push("severity-form");
        if ("status" in changes || "snoozed_until" in changes) parts.push("status-panel");
        return parts.length ? parts : PARTS;
      }
      case "macro.ran":
        return PARTS;
      default:
        return [];
    }
  }

  // The choice a select shows is not the one the server drew: the agent picked it, unsent.
  function picked(select) {
    var drawn = 0;
    for (var i = 0; i < select.options.length; i++) { if (select.options[i].defaultSelected) { drawn = i; break; } }
    return select.selectedIndex !== drawn;
  }

  function inUse(part) {
    if (part.contains(document.activeElement)) return true;
    return $all("select", part).some(picked);
  }

  function scheduleRefresh(delay) {
    if (refreshTimer) return;
    refreshTimer = setTimeout(refreshParts, delay === undefined ? REFRESH_DELAY_MS : delay);
  }

  function due() {
    return PARTS.filter(function (id) {
      return (wanted[id] || 0) > (shows[id] || 0) && document.getElementById(id);
    });
  }

  function refreshParts() {
    refreshTimer = null;
    var id = panelConversation();
    if (!id || posts.length || fetching) return;  // their answer (or ours) comes first
    var ready = due().filter(function (part) { return !inUse(document.getElementById(part)); });
    if (!ready.length) return;  // leaving the part (focusout) asks again
    fetching = true;
    var query = ready.map(function (part) { return "part=" + encodeURIComponent(part); }).join("&");
    fetch("/inbox/conversations/" + id + "/triage/?" + query, {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      var through = parseInt(r.headers.get("X-Events-Through"), 10) || 0;
      return r.text().then(function (html) { place(id, html, through); });
    }).catch(function () {
      // Out of reach (gone, or no longer in the agent's teams): the list and the feed say so.
      ready.forEach(function (part) { delete wanted[part]; });
    }).then(function () {
      fetching = false;
      if (due().length) scheduleRefresh();
    });
  }

  function place(id, html, through) {
    if (panelConversation() !== id) return;  // another conversation was opened meanwhile
    var drawn = document.createElement("template");
    drawn.innerHTML = html;
    Array.prototype.slice.call(drawn.content.children).forEach(function (fresh) {
      var old = fresh.id && document.getElementById(fresh.id);
      if (!old) return;
      var isPart = PARTS.indexOf(fresh.id) >= 0;
      if (isPart && inUse(old)) return;  // taken up since the fetch: it waits
      // Text typed and left in a box (a tag's name, a reason) stays.
      $all("input[id]:not([type=hidden])", old).forEach(function (box) {
        var twin = fresh.querySelector("#" + box.id);
        if (twin && box.value && box.value !== box.defaultValue) twin.value = box.value;
      });
      old.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      wire(fresh);
      if (isPart) shows[fresh.id] = Math.max(shows[fresh.id] || 0, through);
    });
  }

  document.addEventListener("feed:event", function (e) {
    var event = e.detail;
    if (!event || String(event.conversation) !== panelConversation()) return;
    var parts = partsFor(event);
    parts.forEach(function (part) {
      if ((shows[part] || 0) < event.id) wanted[part] = Math.max(wanted[part] || 0, event.id);
    });
    if (due().length) scheduleRefresh();
  });

  var posts = [];  // the requests of this page's triage forms still out
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (panel() && panel().contains(e.target) && e.detail.xhr) posts.push(e.detail.xhr);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var at = posts.indexOf(e.detail && e.detail.xhr);
    if (at < 0) return;
    posts.splice(at, 1);
    if (due().length) scheduleRefresh();
  });
  document.addEventListener("focusout", function (e) {
    if (!panel() || !panel().contains(e.target)) return;
    // Where the focus lands is known only after this event.
    setTimeout(function () { if (due().length) scheduleRefresh(0); }, 0);
  });
  document.addEventListener("pane:loaded", function () {
    shows = {};
    wanted = {};
  });

  document.addEventListener("conversation-changed", function (e) {
    var d = e.detail || {};
    var id = d.id;
    if (id && window.switchboardFeed) window.switchboardFeed.refreshRow(id, d.events_through);
    // The parts this answer drew show everything up to its newest event.
    if (id && String(id) === panelConversation() && d.events_through) {
      (d.parts || []).forEach(function (part) { shows[part] = Math.max(shows[part] || 0, d.events_through); });
    }
    // The counts follow a moment later, so their query does not compete with the change shown.
    if (document.getElementById("sidebar")) {
      setTimeout(function () { document.body.dispatchEvent(new CustomEvent("sidebar-refresh")); }, 500);
    }
  });

  // A triage post that was redirected (an expired session sends the login page) is not a
  // panel: go there as a page, asking to come back to this page (not to the form's POST URL).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || !xhr.responseURL) return;
    var asked = e.detail.requestConfig && e.detail.requestConfig.path;
    var got = new URL(xhr.responseURL);
    if (asked && got.pathname !== new URL(asked, location.href).pathname) {
      e.detail.shouldSwap = false;
      if (got.searchParams.has("next")) got.searchParams.set("next", location.pathname + location.search);
      location.href = got.toString();
    }
  });

  // A change that did not go through says so where the outcomes are shown.
  function refuse(text) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    flash.textContent = "";
    var p = document.createElement("p");
    p.className = "flash error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    flash.appendChild(p);
  }
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    refuse(status === 403
      ? gettext("Not saved: the server refused the change (403). Reload the page, sign in again if asked, and retry.")
      : interpolate(gettext("Not saved: the server answered with an error (%(status)s). Try again in a moment."), { status: status }, true));
  });
  document.addEventListener("htmx:sendError", function () {
    refuse(gettext("Not saved: the server could not be reached. Check the connection and try again."));
  });

  document.addEventListener("htmx:load", function (e) { wire(e.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
})();
