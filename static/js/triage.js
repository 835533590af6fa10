/* Switchboard: the conversation's triage panel in place (htmx swaps #triage; see
   workspace/views/triage.py). This module fills in what the server cannot know (the browser's
   time zone for snooze presets), keeps the Agent list to the chosen team's members, retires the
   Undo after its window, refreshes a list row (app.js's refreshRow) and the view counts when a
   triage action names a conversation, and redraws the parts a colleague's change touched. Plain JavaScript from a static file (the CSP forbids inline script).
   With it on, the panel is compact: a choice of Severity, Team or Agent applies at once (the
   forms' own buttons are for pages without JavaScript), the sections fold and remember it, the
   menus of the status row close when left, and a colleague's change is said aloud. */
(function () {
  "use strict";

  // The submit buttons a change makes needless hide (app.css, "the side panel" block).
  document.documentElement.classList.add("triage-js");

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

  /* --- a choice applies at once ------------------------------------------------------------
     Picked with the mouse (or by a script), a select's choice is posted as its form's button
     would. Picked with the keyboard (arrows, letters, Home / End on a closed select), it is sent
     on Enter or when the focus leaves the select, so moving through the options posts nothing.
     With "Add a reason" open, the Assign button sends the choices and the reason together. */
  var PICKING_KEY = /^(Arrow(Up|Down|Left|Right)|Home|End|PageUp|PageDown|.)$/;

  function applyChoice(select) {
    select.classList.remove("unsent");
    select.removeAttribute("data-unsent");
    var form = select.form;
    if (!form || form.querySelector("details.reason[open]")) return;
    form.requestSubmit();
  }

  function wireApply(root) {
    $all("select[data-apply]", root).forEach(function (select) {
      if (select.hasAttribute("data-apply-wired")) return;
      select.setAttribute("data-apply-wired", "");
      var keyedAt = 0;
      select.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && select.hasAttribute("data-unsent")) {
          e.preventDefault();
          applyChoice(select);
        } else if (!e.ctrlKey && !e.metaKey && !e.altKey && PICKING_KEY.test(e.key)) {
          keyedAt = Date.now();
        }
      });
      select.addEventListener("change", function () {
        if (Date.now() - keyedAt < 400) {
          select.setAttribute("data-unsent", "");
          select.classList.add("unsent");
          return;
        }
        applyChoice(select);
      });
      select.addEventListener("blur", function (e) {
        if (!select.hasAttribute("data-unsent")) return;
        var to = e.relatedTarget;
        if (to && to.closest && to.closest("[data-stale-hint]")) return;  // "Show" discards it
        applyChoice(select);
      });
    });
  }

  /* --- sections that fold -------------------------------------------------------------------
     Each section's heading becomes a button (the disclosure pattern); the closed ones are kept
     in localStorage for every conversation. */
  var FOLDED_KEY = "switchboard.panel.folded";

  function foldedNames() {
    try { return JSON.parse(localStorage.getItem(FOLDED_KEY) || "[]") || []; } catch (e) { return []; }
  }

  function setFolded(section, folded, keep) {
    var body = section.querySelector(".side-body");
    var toggle = section.querySelector(".section-toggle");
    if (!body || !toggle) return;
    body.hidden = folded;
    toggle.setAttribute("aria-expanded", folded ? "false" : "true");
    section.classList.toggle("folded", folded);
    if (!keep) return;
    var name = section.getAttribute("data-collapsible");
    var names = foldedNames().filter(function (n) { return n !== name; });
    if (folded) names.push(name);
    try { localStorage.setItem(FOLDED_KEY, JSON.stringify(names)); } catch (e) { /* private mode: this page only */ }
  }

  function wireSections(root) {
    var sections = $all("[data-collapsible]", root);
    if (root.matches && root.matches("[data-collapsible]")) sections.push(root);
    var folded = foldedNames();
    sections.forEach(function (section) {
      var heading = section.querySelector("h2");
      var body = section.querySelector(".side-body");
      if (!heading || !body || heading.querySelector(".section-toggle")) return;
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "section-toggle";
      toggle.setAttribute("aria-controls", body.id);
      while (heading.firstChild) toggle.appendChild(heading.firstChild);
      heading.appendChild(toggle);
      toggle.addEventListener("click", function () {
        setFolded(section, toggle.getAttribute("aria-expanded") === "true", true);
      });
      setFolded(section, folded.indexOf(section.getAttribute("data-collapsible")) >= 0, false);
    });
  }

  // A shortcut (app.js: t, a, i, s, z) reaching into a folded section or a closed menu opens it
  // first, so its field can take the focus. Capture: this runs before app.js's own handler.
  var SHORTCUT_FIELDS = {
    t: "#tag-input",
    a: "#assign-agent",
    i: "#assign-me-form button",
    s: "#severity-select",
    z: "#snooze-form fieldset button",
  };
  window.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || !SHORTCUT_FIELDS[e.key]) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) return;
    var field = document.querySelector(SHORTCUT_FIELDS[e.key]);
    if (!field) return;
    var section = field.closest("[data-collapsible].folded");
    if (section) setFolded(section, false, true);
    var menu = field.closest("details");
    if (menu) menu.open = true;
  }, true);

  // The status row's menus (Snooze, More): one open at a time, closed by a click elsewhere or Escape.
  document.addEventListener("toggle", function (e) {
    var menu = e.target;
    if (!menu.matches || !menu.matches("details.menu") || !menu.open) return;
    $all("details.menu[open]").forEach(function (other) { if (other !== menu) other.open = false; });
  }, true);
  document.addEventListener("click", function (e) {
    $all("details.menu[open]").forEach(function (menu) { if (!menu.contains(e.target)) menu.open = false; });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || !e.target.closest) return;
    var menu = e.target.closest("details.menu[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  function wire(root) {
    fillZone(root);
    wireTeams(root);
    wireApply(root);
    wireSections(root);
    armUndo(root);
  }

  /* --- a colleague's change, live ---------------------------------------------------------
     The live feed (app.js, "feed:event") says which conversation changed and how; when it is
     the one open here, the parts of the panel it touched are drawn afresh (GET .../triage/) and
     put in place, and the change is said in words in the polite live region (#panel-news): the
     server describes the events the page names (`event=`), "Budi set severity to high". A part
     the agent is using (focus in it, a choice picked but not yet sent, a post of theirs still
     out) waits until they leave it; text typed in a box is carried over. Meanwhile a note beside
     it says what changed, with "Show" to take the colleague's value instead of their own. Each
     part remembers the newest event it shows, so the agent's own change, whose answer drew the
     part already, is not fetched again. */
  var PARTS = ["tags-panel", "severity-form", "assign-panel", "status-panel"];
  var REFRESH_DELAY_MS = 150;
  var shows = {};  // part id -> newest event of the open conversation it shows
  var wanted = {};  // part id -> newest event it should show
  var noted = {};  // part id -> newest event the note beside it (the part in use) tells of
  var held = {};  // part id -> the part drawn afresh while in use, for its "Show"
  var eventParts = {};  // event id -> the parts it touched
  var said = {};  // event id -> announced already
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

  // Due, and either free to redraw or in use with news its note does not tell yet.
  function ready() {
    return due().filter(function (part) {
      return !inUse(document.getElementById(part)) || (noted[part] || 0) < (wanted[part] || 0);
    });
  }

  function unsaid(parts) {
    return Object.keys(eventParts).filter(function (id) {
      return !said[id] && eventParts[id].some(function (part) { return parts.indexOf(part) >= 0; });
    });
  }

  function refreshParts() {
    refreshTimer = null;
    var id = panelConversation();
    if (!id || posts.length || fetching) return;  // their answer (or ours) comes first
    var parts = ready();
    if (!parts.length) return;  // leaving the part (focusout) asks again
    fetching = true;
    var query = parts.map(function (part) { return "part=" + encodeURIComponent(part); })
      .concat(unsaid(parts).map(function (event) { return "event=" + event; })).join("&");
    fetch("/inbox/conversations/" + id + "/triage/?" + query, {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      var through = parseInt(r.headers.get("X-Events-Through"), 10) || 0;
      return r.text().then(function (html) { place(id, html, through); });
    }).catch(function () {
      // Out of reach (gone, or no longer in the agent's teams): the list and the feed say so.
      parts.forEach(function (part) { delete wanted[part]; });
    }).then(function () {
      fetching = false;
      if (ready().length) scheduleRefresh();
    });
  }

  // A part drawn afresh takes the old one's place, with the text typed in its boxes.
  function swapIn(old, fresh, through) {
    $all("input[id]:not([type=hidden])", old).forEach(function (box) {
      var twin = fresh.querySelector("#" + box.id);
      if (twin && box.value && box.value !== box.defaultValue) twin.value = box.value;
    });
    old.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    wire(fresh);
    if (PARTS.indexOf(fresh.id) >= 0) {
      shows[fresh.id] = Math.max(shows[fresh.id] || 0, through);
      delete held[fresh.id];
      delete noted[fresh.id];
    }
  }

  function place(id, html, through) {
    if (panelConversation() !== id) return;  // another conversation was opened meanwhile
    var drawn = document.createElement("template");
    drawn.innerHTML = html;
    var news = [];
    var list = drawn.content.querySelector("#triage-news");
    if (list) {
      news = $all("li", list).map(function (li) {
        return { event: li.getAttribute("data-event"), text: li.textContent, value: li.getAttribute("data-value") || "" };
      });
      list.remove();
    }
    var placed = [];
    var waiting = [];
    Array.prototype.slice.call(drawn.content.children).forEach(function (fresh) {
      var old = fresh.id && document.getElementById(fresh.id);
      if (!old) return;
      var isPart = PARTS.indexOf(fresh.id) >= 0;
      if (isPart && inUse(old)) {  // taken up: it waits, and a note says what changed
        held[fresh.id] = { part: fresh, through: through };
        noted[fresh.id] = Math.max(noted[fresh.id] || 0, through);
        waiting.push(fresh.id);
        note(old, fresh, newsFor(news, [fresh.id]));
        return;
      }
      swapIn(old, fresh, through);
      if (isPart) placed.push(fresh.id);
    });
    var told = newsFor(news, placed).map(function (n) { return n.text; });
    var pending = newsFor(news, waiting).filter(function (n) { return told.indexOf(n.text) < 0; });
    if (pending.length) {
      told.push(interpolate(gettext("%(news)s Not shown yet, as you are using it: choose Show beside it to see it."),
        { news: pending.map(function (n) { return n.text; }).join(" ") }, true));
    }
    news.forEach(function (n) { said[n.event] = true; });
    announce(told.join(" "));
  }

  function newsFor(news, parts) {
    return news.filter(function (n) {
      return (eventParts[n.event] || []).some(function (part) { return parts.indexOf(part) >= 0; });
    });
  }

  // The polite live region of the panel; emptied first, so the same words are said again.
  function announce(text) {
    var region = document.getElementById("panel-news");
    if (!region || !text) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 60);
  }

  // The value a colleague set, from the news, else from the part drawn afresh.
  function newValue(fresh, news) {
    if (news.length && news[news.length - 1].value) return news[news.length - 1].value;
    var select = fresh.querySelector("select");
    var option = select && select.querySelector("option[selected]");
    return option ? option.textContent.split(" — ")[0] : "";
  }

  function note(old, fresh, news) {
    var box = old.querySelector("[data-stale-hint]");
    if (!box) {
      box = document.createElement("p");
      box.className = "stale-hint";
      box.setAttribute("data-stale-hint", "");
      (old.querySelector(".side-body") || old).appendChild(box);
    }
    var value = newValue(fresh, news);
    var words = document.createElement("span");
    words.textContent = value
      ? interpolate(gettext("Changed by a colleague: %(value)s"), { value: value }, true)
      : gettext("Changed by a colleague.");
    var show = document.createElement("button");
    show.type = "button";
    show.className = "link";
    show.textContent = gettext("Show");
    show.addEventListener("click", function () { showCurrent(old.id); });
    box.textContent = "";
    box.appendChild(words);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(show);
  }

  // "Show": the agent's unsent choice goes; the part as the server has it now comes in, with
  // the focus on its first field.
  function showCurrent(part) {
    var kept = held[part];
    var old = document.getElementById(part);
    if (!kept || !old) return;
    swapIn(old, kept.part, kept.through);
    var field = kept.part.querySelector("select, input:not([type=hidden])");
    if (field) field.focus();
  }

  document.addEventListener("feed:event", function (e) {
    var event = e.detail;
    if (!event || String(event.conversation) !== panelConversation()) return;
    var parts = partsFor(event);
    if (parts.length) eventParts[event.id] = parts;
    parts.forEach(function (part) {
      if ((shows[part] || 0) < event.id) wanted[part] = Math.max(wanted[part] || 0, event.id);
    });
    if (ready().length) scheduleRefresh();
  });

  var posts = [];  // the requests of this page's triage forms still out
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (panel() && panel().contains(e.target) && e.detail.xhr) posts.push(e.detail.xhr);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var at = posts.indexOf(e.detail && e.detail.xhr);
    if (at < 0) return;
    posts.splice(at, 1);
    if (ready().length) scheduleRefresh();
  });
  document.addEventListener("focusout", function (e) {
    if (!panel() || !panel().contains(e.target)) return;
    // Where the focus lands is known only after this event.
    setTimeout(function () { if (ready().length) scheduleRefresh(0); }, 0);
  });
  document.addEventListener("pane:loaded", function () {
    shows = {};
    wanted = {};
    noted = {};
    held = {};
    eventParts = {};
    said = {};
  });

  document.addEventListener("conversation-changed", function (e) {
    var d = e.detail || {};
    var id = d.id;
    if (id && window.switchboardFeed) window.switchboardFeed.refreshRow(id, d.events_through);
    // The parts this answer drew show everything up to its newest event.
    if (id && String(id) === panelConversation() && d.events_through) {
      (d.parts || []).forEach(function (part) {
        shows[part] = Math.max(shows[part] || 0, d.events_through);
        delete held[part];  // the answer drew it afresh: a note's news is in it
        delete noted[part];
      });
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
