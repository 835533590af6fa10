/* Switchboard: nothing typed is lost. The reply and note boxes (textarea[data-draft]) save what
   the agent types to the server (debounced) and keep an unsynced copy in localStorage; a box
   over its limit is refused before sending, with the limit shown. When the session ends (it
   expired, or the agent logged out in another tab) the page says so, with a login link that
   comes back here. Plain JavaScript from a static file (the CSP forbids inline script). */
(function () {
  "use strict";

  var SAVE_AFTER_MS = 600;
  var SIGNED_OUT_KEY = "switchboard.signedOut";
  var body = document.body;
  var user = body.getAttribute("data-user") || "";
  var signedOut = false;

  // Numbers as the page's language writes them (50,000 in English, 50.000 in Indonesian).
  function fmt(n) { return Number(n).toLocaleString(document.documentElement.lang || "en"); }
  function here() { return location.pathname + location.search; }
  function loginUrl() { return "/login/?next=" + encodeURIComponent(here()); }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* --- the session ------------------------------------------------------------------------ */

  function showSignedOut(detail) {
    var box = document.getElementById("signed-out");
    signedOut = true;
    body.setAttribute("data-session", "signed-out");
    if (!box) return;
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = (detail || gettext("You are signed out. Nothing you typed is lost: it is kept on this device.")) + " ";
    var link = document.createElement("a");
    link.href = loginUrl();
    link.textContent = gettext("Log in again");
    p.appendChild(link);
    box.appendChild(p);
    box.hidden = false;
  }

  function showSignedIn() {
    if (!signedOut) return;
    signedOut = false;
    body.removeAttribute("data-session");
    var box = document.getElementById("signed-out");
    if (box) box.hidden = true;
  }

  function checkSession() {
    var url = body.getAttribute("data-session-url");
    if (!url) return;
    fetch(url + "?next=" + encodeURIComponent(here()), {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" }
    }).then(function (r) {
      if (r.status === 401 || r.status === 403) { showSignedOut(); return; }
      if (!r.ok) return;
      return r.json().then(function (data) {
        if (data.username && data.username !== user) {
          showSignedOut(interpolate(gettext("You are signed in as %(other)s in another tab, not as %(user)s."), { other: data.username, user: user }, true));
        } else {
          showSignedIn();
        }
      });
    }).catch(function () { /* offline: the next check tells */ });
  }

  function wireSession() {
    document.addEventListener("visibilitychange", function () { if (!document.hidden) checkSession(); });
    window.addEventListener("focus", checkSession);
    window.addEventListener("storage", function (e) {
      // Written as the other tab's logout form is sent: ask once its request has had time.
      if (e.key !== SIGNED_OUT_KEY) return;
      setTimeout(checkSession, 500);
      setTimeout(checkSession, 2000);
    });
    setInterval(checkSession, 60000);
    // The live feed dropping (the server closes a signed-out user's socket) is worth a look too.
    if (window.MutationObserver) {
      new MutationObserver(function () {
        if (body.getAttribute("data-live") === "disconnected") checkSession();
      }).observe(body, { attributes: true, attributeFilter: ["data-live"] });
    }
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (/\/logout\/$/.test(form.getAttribute("action") || "")) {
        try { localStorage.setItem(SIGNED_OUT_KEY, String(Date.now())); } catch (err) { /* private mode */ }
      }
      // The token rotates when the agent logs in again (perhaps in another tab): send the
      // current one, so a form kept open through that is not refused with a 403.
      var token = csrfToken();
      if (!token) return;
      Array.prototype.forEach.call(form.querySelectorAll("input[name=csrfmiddlewaretoken]"), function (input) {
        input.value = token;
      });
    }, true);
  }

  /* --- drafts ------------------------------------------------------------------------------- */

  function draftKey(area) {
    return "switchboard.draft." + user + "." + area.getAttribute("data-draft-url") + "." + area.getAttribute("data-draft");
  }

  function readLocal(area) {
    try { return JSON.parse(localStorage.getItem(draftKey(area)) || "null"); } catch (e) { return null; }
  }

  function writeLocal(area, entry) {
    try {
      if (entry) localStorage.setItem(draftKey(area), JSON.stringify(entry));
      else localStorage.removeItem(draftKey(area));
    } catch (e) { /* storage full or private mode: the server copy remains */ }
  }

  function wireDraft(area) {
    var url = area.getAttribute("data-draft-url");
    var kind = area.getAttribute("data-draft");
    var limit = parseInt(area.getAttribute("data-limit") || "0", 10);
    var counter = document.querySelector('[data-counter-for="' + area.id + '"]');
    var form = area.form;
    var timer = null;
    var inFlight = null;
    var state = "";
    var warning = false;  // the state says the text is not on the server (app.css shows it)

    function show() {
      var n = area.value.length;
      var over = limit > 0 && n > limit;
      var message = over
        ? interpolate(gettext("Too long to send: %(n)s characters, the limit is %(limit)s. Shorten it by %(cut)s; nothing will be cut."), { n: fmt(n), limit: fmt(limit), cut: fmt(n - limit) }, true)
        : "";
      area.setCustomValidity(message);
      area.setAttribute("aria-invalid", over ? "true" : "false");
      if (!counter) return;
      counter.classList.toggle("over", over);
      // Near the limit (9 in 10 of it): shown even while the composer is idle (app.css).
      counter.classList.toggle("near", limit > 0 && n >= limit * 0.9);
      counter.classList.toggle("warning", warning);
      counter.setAttribute("role", over ? "alert" : "status");
      counter.textContent = (over ? message : interpolate(gettext("%(count)s of %(limit)s characters at most"), { count: fmt(n), limit: fmt(limit) }, true)) + (state ? " · " + state : "");
    }

    function setState(text, warn) { state = text; warning = !!warn; show(); }

    function save() {
      timer = null;
      var text = area.value;
      var request = fetch(url, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ kind: kind, text: text })
      }).then(function (r) {
        if (r.status === 401 || r.status === 403) {
          setState(gettext("signed out: kept on this device"), true);
          return r.json().then(function (d) { showSignedOut(d.detail); }, function () { showSignedOut(); });
        }
        if (!r.ok) return r.json().then(function (d) { setState(d.detail || gettext("not saved"), true); });
        var local = readLocal(area);
        if (local && local.text === text && !local.sending) writeLocal(area, null);
        showSignedIn();
        setState(text.trim() ? gettext("draft saved") : "");
      }).catch(function () {
        setState(gettext("offline: kept on this device"), true);
      });
      inFlight = request;
      request.then(function () { if (inFlight === request) inFlight = null; });
      return request;
    }

    function schedule(delay) {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, delay);
    }

    // Start: the server rendered the saved draft. A local copy newer than it (typed while
    // signed out or offline, or a send that never reached the server) wins and is saved.
    var local = readLocal(area);
    if (area.hasAttribute("data-draft-sent")) {
      writeLocal(area, null);
    } else if (local && local.text !== area.value) {
      var savedAt = Date.parse(area.getAttribute("data-draft-saved") || "") || 0;
      if (local.at > savedAt) {
        area.value = local.text;
        schedule(0);
      }
    }
    show();

    area.addEventListener("input", function () {
      writeLocal(area, { text: area.value, at: Date.now() });
      state = "";
      warning = false;
      show();
      schedule(SAVE_AFTER_MS);
    });

    if (!form) return;
    form.addEventListener("submit", function (e) {
      if (limit > 0 && area.value.length > limit) {
        e.preventDefault();
        show();
        area.reportValidity();
        return;
      }
      if (timer) { clearTimeout(timer); timer = null; }
      if (inFlight) {
        // Let a save under way land first, so it cannot bring the draft back after the send.
        e.preventDefault();
        var submitter = e.submitter;
        inFlight.then(function () { form.requestSubmit(submitter || undefined); });
        inFlight = null;
        return;
      }
      writeLocal(area, { text: area.value, at: Date.now(), sending: true });
    });

    // Back/Forward from the cache: the box shows the saved draft, never text already sent.
    window.addEventListener("pageshow", function (e) {
      if (!e.persisted) return;
      fetch(url + "?kind=" + encodeURIComponent(kind), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d) { area.value = d.text; show(); } })
        .catch(function () {});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireSession();
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-draft]"), wireDraft);
  });
  // A conversation swapped into the right pane (panes.js) brings its own boxes.
  document.addEventListener("pane:loaded", function () {
    var pane = document.getElementById("pane");
    if (pane) Array.prototype.forEach.call(pane.querySelectorAll("textarea[data-draft]"), wireDraft);
  });
})();
