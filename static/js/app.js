/* Switchboard agents' pages: live feed, SLA countdowns, keyboard shortcuts, @mentions.
   Plain JavaScript, loaded from static files only (the CSP forbids inline script). */
(function () {
  "use strict";

  var LAST_EVENT_KEY = "switchboard.lastEventId";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  /* --- small behaviours ------------------------------------------------------------------ */

  function wireForms() {
    $all("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    $all(".js-hide").forEach(function (el) { el.hidden = true; });
    var bulk = $("#bulk");
    if (bulk) {
      // Said beside the button before a round trip; the server says the same if JS is off.
      bulk.addEventListener("submit", function (e) {
        var box = $("#bulk-errors");
        if ($all("input[name=ids][form=bulk]:checked").length) return;
        e.preventDefault();
        if (box) { box.textContent = ""; var p = document.createElement("p"); p.textContent = gettext("Pick at least one conversation."); box.appendChild(p); }
      });
    }
    document.addEventListener("click", function (e) {
      var button = e.target.closest("[data-show-images]");
      if (!button) return;
      var frame = button.previousElementSibling;
      if (frame && frame.tagName === "IFRAME") frame.src = button.getAttribute("data-show-images");
      button.remove();
    });
  }

  function formatLeft(ms) {
    var minutes = Math.round(ms / 60000);
    if (minutes < 60) return interpolate(gettext("%(m)s min"), { m: minutes }, true);
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return interpolate(gettext("%(h)s h %(m)s min"), { h: hours, m: minutes % 60 }, true);
    return interpolate(gettext("%(d)s days"), { d: Math.floor(hours / 24) }, true);
  }

  function tickSla() {
    var now = Date.now();
    $all("time.sla[data-due]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      var state = left <= 0 || el.classList.contains("sla-breached") ? "breached" : left <= 60 * 60000 ? "warning" : "ok";
      el.classList.remove("sla-ok", "sla-warning", "sla-breached");
      el.classList.add("sla-" + state);
      el.textContent = state === "breached" ? gettext("breached") : formatLeft(left);
    });
  }

  function toast(text, level) {
    var box = $("#toasts");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "toast " + (level || "info");
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.appendChild(p);
    setTimeout(function () { p.remove(); }, 8000);
  }

  /* --- incident spikes: a toast, and the banner above the inbox list (leads and admins) -------- */

  document.addEventListener("feed:spike", function (e) {
    var d = e.detail;
    toast(d.title + " " + d.text, "error");
    var title = $("#inbox-title");
    if (!title || $('[data-spike="' + d.alert + '"]')) return;
    var banner = $(".spike-banner");
    if (!banner) {
      banner = document.createElement("section");
      banner.className = "spike-banner";
      banner.setAttribute("aria-label", d.region);
      title.insertAdjacentElement("afterend", banner);
    }
    var p = document.createElement("p");
    p.className = "flash error";
    p.setAttribute("data-spike", String(d.alert));
    var strong = document.createElement("strong");
    strong.textContent = d.title;
    var link = document.createElement("a");
    link.href = d.url;
    link.textContent = d.link;
    p.append(strong, " " + d.text + " ", link);
    banner.appendChild(p);
  });

  /* --- live feed --------------------------------------------------------------------------- */

  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.text();
    });
  }

  /* A list row drawn afresh. Both the live feed (an event) and a triage answer (its HX-Trigger,
     triage.js) ask for it, usually for the same change: `through` is the newest event of the
     conversation the caller needs shown. A fetch that started after that event was heard (or
     after the server said it was committed) shows it, so a second ask is dropped; asks that
     arrive together make one fetch; one arriving while a fetch is out waits for it and goes
     once after it. Without `through` the row is always fetched again. */
  var ROW_DELAY_MS = 0;  // asks of the same task batch (a feed frame) still make one fetch
  var rowState = {};
  var heard = {};  // conversation id -> newest event of it this page has heard of (committed)

  function refreshRow(id, through) {
    if (!$("#rows")) return;
    var key = String(id);
    var s = rowState[key] || (rowState[key] = { covers: 0, busy: false, timer: null, need: 0, always: false });
    through = parseInt(through, 10) || 0;
    if (through && s.covers >= through) return;  // made or in flight since then: it shows it
    if (through) s.need = Math.max(s.need, through); else s.always = true;
    if (s.busy || s.timer) return;  // goes with the one scheduled, or once the one out is back
    s.timer = setTimeout(function () { fetchRow(key, s); }, ROW_DELAY_MS);
  }

  function fetchRow(key, s) {
    s.timer = null;
    var before = s.covers;
    s.covers = Math.max(s.covers, s.need, heard[key] || 0);
    s.need = 0;
    s.always = false;
    s.busy = true;
    function done() {
      s.busy = false;
      if (s.always || s.need > s.covers) fetchRow(key, s);
    }
    // The list's own filters go along: a conversation that no longer matches comes back empty.
    fetchHtml("/inbox/rows/" + key + "/" + location.search).then(function (html) {
      placeRow(key, html);
      done();
    }).catch(function () {
      // Out of scope now (404): leave the list as it is; a later ask tries again.
      s.covers = before;
      done();
    });
  }

  function placeRow(id, html) {
    var tbody = $("#rows");
    if (!tbody) return;
    var holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    var existing = document.getElementById("row-" + id);
    if (!row) {
      if (existing) existing.classList.add("stale");
      return;
    }
    if (existing) {
      // Keep what the agent was doing with the row: its checkbox, selection and focus.
      var box = existing.querySelector("input[type=checkbox]");
      var checked = box && box.checked;
      var selected = existing.classList.contains("selected");
      var opened = existing.classList.contains("open");
      var focused = existing.contains(document.activeElement);
      existing.replaceWith(row);
      if (checked) row.querySelector("input[type=checkbox]").checked = true;
      if (selected) { row.classList.add("selected"); row.setAttribute("aria-selected", "true"); }
      if (opened) { row.classList.add("open"); row.setAttribute("aria-current", "true"); }
      if (focused) { var link = row.querySelector("td.subject a"); if (link) link.focus(); }
    } else {
      var empty = tbody.querySelector("tr.empty");
      if (empty) empty.remove();
      arrive(tbody, row);
    }
    tickSla();
  }

  /* A new row slides in at the top. An agent who has scrolled down keeps seeing the rows they
     were reading (the scroll moves by the new row's height, nothing jumps) and gets a "N new"
     pill instead; the pill, or scrolling back up, shows them. */
  var newCount = 0;

  function listScroller() {
    var list = $("section.list");
    if (list && list.scrollHeight > list.clientHeight && getComputedStyle(list).overflowY !== "visible") return list;
    return document.scrollingElement || document.documentElement;
  }

  function scrolledDown(scroller) {
    var tbody = $("#rows");
    if (scroller !== document.scrollingElement && scroller !== document.documentElement) return scroller.scrollTop > 8;
    return tbody ? tbody.getBoundingClientRect().top < -8 : false;
  }

  function pill() {
    var wrap = $("#new-pill");
    if (wrap) return wrap;
    var table = $("#conversations");
    if (!table) return null;
    wrap = document.createElement("div");
    wrap.id = "new-pill";
    wrap.className = "new-pill-wrap";
    wrap.setAttribute("aria-live", "polite");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "new-pill";
    button.hidden = true;
    button.addEventListener("click", function () {
      var scroller = listScroller();
      if (scroller === document.scrollingElement || scroller === document.documentElement) table.scrollIntoView({ block: "start" });
      else scroller.scrollTop = 0;
      clearPill();
      var first = $("#rows tr.row td.subject a");
      if (first) first.focus({ preventScroll: true });
    });
    wrap.appendChild(button);
    table.parentNode.insertBefore(wrap, table);
    return wrap;
  }

  function clearPill() {
    newCount = 0;
    var wrap = $("#new-pill");
    if (wrap) wrap.firstElementChild.hidden = true;
  }

  function arrive(tbody, row) {
    var scroller = listScroller();
    var down = scrolledDown(scroller);
    var before = scroller.scrollTop;
    row.classList.add("arrived");
    tbody.insertBefore(row, tbody.firstElementChild);
    if (!down) return;
    // The browser's scroll anchoring may have kept the view already; if not, do it here.
    if (scroller.scrollTop === before) scroller.scrollTop = before + row.getBoundingClientRect().height;
    newCount += 1;
    var wrap = pill();
    if (!wrap) return;
    wrap.firstElementChild.textContent = interpolate(gettext("%(n)s new"), { n: newCount }, true);
    wrap.firstElementChild.hidden = false;
  }

  function watchScroll() {
    function onScroll() { if (newCount && !scrolledDown(listScroller())) clearPill(); }
    var list = $("section.list");
    if (list) list.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("scroll", onScroll, { passive: true });
  }

  /* The thread scrolls inside the conversation pane where the composer is pinned below it
     (static/css/app.css); elsewhere (a short window) the page scrolls. */
  function threadScroller() {
    var wrap = $("#thread-wrap");
    if (wrap && getComputedStyle(wrap).overflowY !== "visible") return wrap;
    var pane = document.getElementById("pane");
    if (pane && pane.scrollHeight > pane.clientHeight && getComputedStyle(pane).overflowY !== "hidden") return pane;
    return null;
  }

  function threadAtEnd() {
    var scroller = threadScroller();
    if (scroller) return scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 40;
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  }

  // The latest message in view, moving only the thread's own box when it has one.
  function showLatest() {
    var wrap = $("#thread-wrap");
    var scroller = threadScroller();
    if (scroller && scroller === wrap) { wrap.scrollTop = wrap.scrollHeight; return; }
    if (wrap && wrap.lastElementChild) {
      var last = wrap.querySelector("#thread > li:last-child") || wrap.lastElementChild;
      last.scrollIntoView({ block: "end" });
    }
  }

  // A conversation opens at its latest message where the thread has a box of its own, as in
  // Front and Chatwoot (the composer is pinned below it); a page that scrolls stays at the top.
  function openAtLatest() {
    var wrap = $("#thread-wrap");
    if (!wrap || threadScroller() !== wrap) return;
    wrap.scrollTop = wrap.scrollHeight;
    // Messages drawn a moment later (a mail's frame, an image) keep it there until the agent scrolls.
    var pinned = true;
    function unpin() { pinned = false; }
    wrap.addEventListener("wheel", unpin, { once: true, passive: true });
    wrap.addEventListener("touchstart", unpin, { once: true, passive: true });
    wrap.addEventListener("keydown", unpin, { once: true });
    wrap.addEventListener("pointerdown", unpin, { once: true });  // the scrollbar dragged
    if (window.ResizeObserver) {
      var thread = $("#thread", wrap);
      var watcher = new ResizeObserver(function () { if (pinned && wrap.isConnected) wrap.scrollTop = wrap.scrollHeight; });
      if (thread) watcher.observe(thread);
      setTimeout(function () { watcher.disconnect(); }, 3000);
    }
  }

  function refreshThread(id) {
    var wrap = $("#thread-wrap");
    if (!wrap) return;
    fetchHtml("/inbox/conversations/" + id + "/thread/").then(function (html) {
      var atEnd = threadAtEnd();
      var scroller = threadScroller();
      var kept = scroller ? scroller.scrollTop : 0;
      wrap.innerHTML = html;
      if (atEnd) showLatest();
      else if (scroller) scroller.scrollTop = kept;
    }).catch(function () {});
  }

  var sidebarTimer = null;
  function refreshSidebar() {
    // Counts follow the feed, at most once every two seconds (htmx re-fetches #sidebar).
    if (sidebarTimer || !$("#sidebar")) return;
    sidebarTimer = setTimeout(function () {
      sidebarTimer = null;
      document.body.dispatchEvent(new CustomEvent("sidebar-refresh"));
    }, 2000);
  }

  // Ids already handled on this page: a replay after a reconnect, or an event heard through two
  // groups, is acted on once.
  var handled = {};
  var handledOrder = [];

  function firstTime(id) {
    if (handled[id]) return false;
    handled[id] = true;
    handledOrder.push(id);
    if (handledOrder.length > 2000) delete handled[handledOrder.shift()];
    return true;
  }

  var THREAD_UNCHANGED = /^(conversation\.(updated|assigned|tagged|untagged)|sla\.)/;

  function onEvent(event) {
    if (!firstTime(event.id)) return;
    var last = parseInt(sessionStorage.getItem(LAST_EVENT_KEY) || "0", 10);
    if (event.id > last) sessionStorage.setItem(LAST_EVENT_KEY, String(event.id));
    if (event.type === "sla.warning") toast(interpolate(gettext("SLA warning on conversation #%(id)s"), { id: event.conversation }, true), "warning");
    if (event.type === "sla.breached") toast(interpolate(gettext("SLA breached on conversation #%(id)s"), { id: event.conversation }, true), "error");
    if (!event.conversation) return;
    var key = String(event.conversation);
    heard[key] = Math.max(heard[key] || 0, event.id);
    refreshRow(event.conversation, event.id);
    refreshSidebar();
    // The open conversation's side panel follows its triage events (triage.js).
    document.dispatchEvent(new CustomEvent("feed:event", { detail: event }));
    // The thread shows messages: a triage change (severity, tags, assignment) leaves it as is.
    if (THREAD_UNCHANGED.test(event.type)) return;
    var open = $("[data-open-conversation]");
    if (open && open.getAttribute("data-open-conversation") === String(event.conversation)) {
      refreshThread(event.conversation);
    }
  }

  function connect(delay) {
    var path = document.body.getAttribute("data-feed");
    if (!path || !window.WebSocket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    // Resume where this tab left off: the server replays what was missed, in order, before any
    // live event (or answers resync.required when that is too much).
    var last = parseInt(sessionStorage.getItem(LAST_EVENT_KEY) || "0", 10);
    var query = last > 0 ? (path.indexOf("?") < 0 ? "?" : "&") + "since=" + last : "";
    var socket = new WebSocket(scheme + location.host + path + query);
    socket.addEventListener("open", function () {
      document.body.setAttribute("data-live", "connected");
      feedSocket = socket;
      sendPresence();
      delay = 1000;
    });
    socket.addEventListener("message", function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (e) { return; }
      if (data.type === "event") onEvent(data.event);
      else if (data.type === "presence") onPresence(data);
      else if (data.type === "resync.required") {
        // Too much was missed to replay: start again from now, and say so.
        sessionStorage.removeItem(LAST_EVENT_KEY);
        toast(gettext("Many changes while you were away: reload the page."), "warning");
      }
      // Other frames (the bell's "notifications") go to whichever module listens for them.
      else if (data.type) document.dispatchEvent(new CustomEvent("feed:" + data.type, { detail: data }));
    });
    socket.addEventListener("close", function () {
      document.body.setAttribute("data-live", "disconnected");
      setTimeout(function () { connect(Math.min((delay || 1000) * 2, 30000)); }, delay || 1000);
    });
  }

  /* --- collision: who else has this conversation open ---------------------------------------- */

  var feedSocket = null;
  var myPresence = "viewing";
  var others = {};

  function openConversation() {
    var el = $("[data-open-conversation]");
    return el ? parseInt(el.getAttribute("data-open-conversation"), 10) : null;
  }

  function sendPresence() {
    var id = openConversation();
    if (!id || !feedSocket || feedSocket.readyState !== WebSocket.OPEN) return;
    feedSocket.send(JSON.stringify({ type: "presence", conversation: id, state: myPresence }));
  }

  function setPresence(state) {
    if (state === myPresence) return;
    myPresence = state;
    sendPresence();
  }

  function onPresence(data) {
    var box = $("#presence");
    if (!box || data.conversation !== openConversation()) return;
    if (data.state === "left") delete others[data.user.username];
    else others[data.user.username] = data;
    box.textContent = "";
    Object.keys(others).sort().forEach(function (username) {
      var p = document.createElement("p");
      var who = others[username];
      p.className = "presence " + who.state;
      p.textContent = interpolate(who.state === "replying" ? gettext("%(name)s is replying") : gettext("%(name)s is viewing"), { name: who.user.name || username }, true);
      box.appendChild(p);
    });
    box.hidden = box.childElementCount === 0;
  }

  function wirePresence() {
    var area = $("#reply-text");
    if (!area || !openConversation()) return;
    area.addEventListener("input", function () { setPresence(area.value.trim() ? "replying" : "viewing"); });
    area.addEventListener("blur", function () { if (!area.value.trim()) setPresence("viewing"); });
  }

  function startFeed() {
    // The page shows everything up to the event it was rendered at; replay only what is newer.
    var latest = document.body.getAttribute("data-last-event");
    if (latest) sessionStorage.setItem(LAST_EVENT_KEY, latest);
    connect(1000);
  }

  /* --- keyboard ---------------------------------------------------------------------------- */

  function rows() { return $all("#rows tr.row"); }

  function select(index) {
    var list = rows();
    if (!list.length) return;
    index = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    var row = list[index];
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    var link = row.querySelector("td.subject a");
    if (link) link.focus();
  }

  function selectedIndex() {
    return rows().findIndex(function (r) { return r.classList.contains("selected"); });
  }

  /* The list's order, kept for the conversation page: j / k there open the next / previous
     conversation of the list the agent came from (the list is another page for now). */
  var LIST_KEY = "switchboard.list";

  function rememberList() {
    var hrefs = rows().map(function (r) { return r.getAttribute("data-href"); });
    if (hrefs.length) sessionStorage.setItem(LIST_KEY, JSON.stringify(hrefs));
  }

  function stepConversation(step) {
    var hrefs;
    try { hrefs = JSON.parse(sessionStorage.getItem(LIST_KEY) || "[]"); } catch (err) { hrefs = []; }
    var here = hrefs.indexOf(location.pathname);
    var next = hrefs[here + step];
    if (here < 0 || !next) return false;
    location.href = next;
    return true;
  }

  function panes() {
    var p = window.switchboardPanes;
    return p && p.available() ? p : null;
  }

  // Open a list row: in the right pane when the page has one, else as a page.
  function openRow(row) {
    var href = row.getAttribute("data-href");
    if (panes()) panes().open(href);
    else { rememberList(); location.href = href; }
  }

  function openIndex() {
    var id = openConversation();
    return id ? rows().findIndex(function (r) { return r.getAttribute("data-conversation") === String(id); }) : -1;
  }

  function move(step) {
    if (!rows().length) return openConversation() ? stepConversation(step) : false;
    // With a conversation open beside the list, j / k open the next / previous one.
    var at = openIndex();
    if (at >= 0 && panes()) {
      var next = rows()[at + step];
      if (!next) return false;
      select(at + step);
      openRow(next);
      return true;
    }
    select(selectedIndex() + step);
    return true;
  }

  function clickButton(sel) {
    var el = $(sel);
    if (!el || el.disabled) return false;
    el.click();
    return true;
  }

  function focusField(sel) {
    var el = $(sel);
    if (el && window.switchboardComposer) window.switchboardComposer.reveal(el);
    if (el) { el.scrollIntoView({ block: "center" }); el.focus(); return true; }
    return false;
  }

  /* e: resolve, then open the next conversation of the list (the one before when it was the
     last). The Undo of the resolve goes along as a toast for the rest of its window. */
  function resolveAndNext(form) {
    var list = rows();
    var at = openIndex();
    // A row already out of the list's filters (marked stale by the feed) is not "next".
    function live(i, step) { while (list[i] && list[i].classList.contains("stale")) i += step; return list[i]; }
    var next = live(at + 1, 1) || live(at - 1, -1) || null;
    var resolvedRow = list[at];
    var title = resolvedRow ? (resolvedRow.querySelector("td.subject a") || resolvedRow).textContent.trim() : "";
    form.addEventListener("htmx:afterRequest", function (ev) {
      if (!ev.detail.successful) return;
      var undo = $("#undo-form");
      if (!undo || !next) return;  // nowhere to go: the Undo stays in the panel
      undoToast(undo, title);
      select(rows().indexOf(next));
      openRow(next);
    }, { once: true });
    form.requestSubmit();
  }

  function undoToast(undoForm, title) {
    var box = $("#toasts");
    if (!box) return;
    var data = new FormData(undoForm);
    var url = undoForm.getAttribute("action");
    var ms = parseInt(undoForm.getAttribute("data-undo-ms"), 10) || 5000;
    var id = (url.match(/conversations\/(\d+)\//) || [])[1];
    var toastEl = document.createElement("div");
    toastEl.className = "toast undo-toast";
    var text = document.createElement("span");
    text.setAttribute("role", "status");
    text.textContent = interpolate(gettext("Resolved: %(title)s."), { title: title }, true) + " ";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "primary";
    button.textContent = gettext("Undo");
    toastEl.appendChild(text);
    toastEl.appendChild(button);
    box.appendChild(toastEl);
    var gone = setTimeout(function () { toastEl.remove(); }, ms);
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (r) {
          clearTimeout(gone);
          text.textContent = r.ok ? interpolate(gettext("Reopened: %(title)s."), { title: title }, true) : interpolate(gettext("Not undone (%(status)s). Reopen it from its page."), { status: r.status }, true);
          button.remove();
          setTimeout(function () { toastEl.remove(); }, 4000);
          if (r.ok && id) document.dispatchEvent(new CustomEvent("conversation-changed", { detail: changedDetail(r, id) }));
        })
        .catch(function () { text.textContent = gettext("Not undone: the server could not be reached."); button.disabled = false; });
    });
  }

  // The newest event a triage answer's HX-Trigger says the change made, for a plain fetch (no
  // part of a panel was drawn from it, so none is named).
  function changedDetail(response, id) {
    try {
      var said = JSON.parse(response.headers.get("HX-Trigger") || "{}")["conversation-changed"];
      if (said && String(said.id) === String(id)) return { id: id, events_through: said.events_through };
    } catch (err) { /* not JSON: the id alone */ }
    return { id: id };
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) return;
    var handled = true;
    switch (e.key) {
      case "j": handled = move(1); break;
      case "k": handled = move(-1); break;
      case "Enter": {
        var i = selectedIndex();
        if (i < 0) { handled = false; break; }
        openRow(rows()[i]);
        break;
      }
      case "r": handled = focusField("#reply-text"); break;
      case "n": handled = focusField("#note-text"); break;
      case "t": handled = focusField("#tag-input"); break;
      case "a": handled = focusField("#assign-agent"); break;
      case "i": handled = clickButton("#assign-me-form button"); break;
      case "s": handled = focusField("#severity-select"); break;
      case "z": handled = focusField("#snooze-form fieldset button"); break;
      case "e": {
        var form = $("#resolve-form");
        if (!form) { handled = false; break; }
        if (panes() && openIndex() >= 0) resolveAndNext(form);
        else form.requestSubmit();  // htmx posts it in place
        break;
      }
      case "/": handled = focusField("#search-q"); break;
      case "?": {
        var dialog = $("#shortcuts");
        if (dialog && dialog.showModal) dialog.showModal();
        break;
      }
      default: handled = false;
    }
    if (handled) e.preventDefault();
  }

  /* --- @mention autocomplete ------------------------------------------------------------------ */

  function wireMentions() {
    var area = $("textarea[data-mention]");
    var list = $("#mention-list");
    if (!area || !list) return;
    var users = null;
    function load() {
      if (users) return Promise.resolve(users);
      return fetch("/api/v1/users/", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (data) { users = data; return users; });
    }
    function currentWord() {
      var before = area.value.slice(0, area.selectionStart);
      var m = /(?:^|\s)@([\w.+-]*)$/.exec(before);
      return m ? m[1] : null;
    }
    function pick(username) {
      var pos = area.selectionStart;
      var before = area.value.slice(0, pos).replace(/@([\w.+-]*)$/, "@" + username + " ");
      area.value = before + area.value.slice(pos);
      area.setSelectionRange(before.length, before.length);
      list.hidden = true;
      area.focus();
      area.dispatchEvent(new Event("input", { bubbles: true }));  // the draft keeps it
    }
    area.addEventListener("input", function () {
      var word = currentWord();
      if (word === null) { list.hidden = true; return; }
      load().then(function (all) {
        var hits = all.filter(function (u) { return u.username.toLowerCase().indexOf(word.toLowerCase()) === 0; }).slice(0, 6);
        list.textContent = "";
        hits.forEach(function (u) {
          var li = document.createElement("li");
          li.setAttribute("role", "option");
          li.tabIndex = 0;
          li.textContent = u.username + " (" + u.name + ")";
          li.addEventListener("click", function () { pick(u.username); });
          li.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); pick(u.username); } });
          list.appendChild(li);
        });
        list.hidden = hits.length === 0;
      });
    });
  }

  /* --- canned responses: the server filled the placeholders; insert at the cursor ------------ */

  function wireCanned() {
    var select = $("select[data-canned]");
    if (!select) return;
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var area = document.getElementById(select.getAttribute("data-canned"));
      if (!option || !option.value || !area) return;
      var text = option.getAttribute("data-text") || "";
      var start = area.selectionStart || 0, end = area.selectionEnd || 0;
      area.value = area.value.slice(0, start) + text + area.value.slice(end);
      area.setSelectionRange(start + text.length, start + text.length);
      select.selectedIndex = 0;
      area.focus();
      area.dispatchEvent(new Event("input", { bubbles: true }));  // the draft keeps it
    });
  }

  // For the other modules: one row refresh for the whole page (triage.js asks after a triage
  // answer), and the thread's latest message (panes.js after sending in place).
  window.switchboardFeed = { refreshRow: refreshRow, showLatest: showLatest };

  document.addEventListener("DOMContentLoaded", function () {
    openAtLatest();
    wireForms();
    wireCanned();
    wirePresence();
    wireMentions();
    tickSla();
    watchScroll();
    setInterval(tickSla, 30000);
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("#rows a")) rememberList();
    });
    startFeed();
  });

  // A conversation swapped into the right pane (panes.js): wire its boxes, and tell colleagues
  // this agent left the one before and is viewing this one.
  document.addEventListener("pane:loaded", function (e) {
    var previous = e.detail && e.detail.previous;
    if (previous && feedSocket && feedSocket.readyState === WebSocket.OPEN) {
      feedSocket.send(JSON.stringify({ type: "presence", conversation: parseInt(previous, 10), state: "left" }));
    }
    others = {};
    myPresence = "viewing";
    sendPresence();
    if (!(e.detail && e.detail.sent)) openAtLatest();
    wireCanned();
    wirePresence();
    wireMentions();
    tickSla();
  });
})();
