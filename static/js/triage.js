/* Switchboard: the conversation's triage panel in place (htmx swaps #triage; see
   workspace/views/triage.py). This module fills in what the server cannot know (the browser's
   time zone for snooze presets), keeps the Agent list to the chosen team's members, retires the
   Undo after its window, and refreshes a list row (app.js's refreshRow) and the view counts when
   a triage action names a conversation. Plain JavaScript from a static file (the CSP forbids inline script). */
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

  document.addEventListener("conversation-changed", function (e) {
    var d = e.detail || {};
    var id = d.id;
    if (id && window.switchboardFeed) window.switchboardFeed.refreshRow(id, d.events_through);
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
