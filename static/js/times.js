/* Switchboard: every time on the page in the agent's zone and in one format, relative times
   ("3 min ago") kept live every minute. The zone is the agent's profile setting (body
   data-tz); until there is one, the browser's own, which is sent once to be stored
   (workspace/views/profile.py). The server writes the same words first
   (workspace/templatetags/ui.py stamp_text / ago_text). Plain JavaScript, static file. */
(function () {
  "use strict";

  var body = document.body;
  var formatters = {};

  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; }
  }

  function zone() { return body.getAttribute("data-tz") || browserZone(); }

  // The page's language (<html lang>), as stamp_text writes Django's day and month names.
  function locale() { return document.documentElement.lang === "id" ? "id-ID" : "en-US"; }

  function parts(date, inZone) {
    var tz = inZone || zone();
    if (!formatters[tz]) {
      try {
        formatters[tz] = new Intl.DateTimeFormat(locale(), {
          timeZone: tz, weekday: "short", day: "numeric", month: "short", year: "numeric",
          hour: "2-digit", minute: "2-digit", hourCycle: "h23"
        });
      } catch (e) { formatters[tz] = new Intl.DateTimeFormat(locale(), { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); }
    }
    var out = {};
    formatters[tz].formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }

  // "Mon 7 Dec, 13:01" this year, "7 Dec 2025, 13:01" before: stamp_text's words.
  function stamp(date, now) {
    var p = parts(date);
    var time = p.hour + ":" + p.minute;
    if (p.year === parts(now).year) return p.weekday + " " + p.day + " " + p.month + ", " + time;
    return p.day + " " + p.month + " " + p.year + ", " + time;
  }

  function ago(date, now) {
    var minutes = Math.floor((now - date) / 60000);
    if (minutes < 1) return gettext("just now");
    if (minutes < 60) return interpolate(gettext("%(m)s min ago"), { m: minutes }, true);
    if (minutes < 24 * 60) return interpolate(gettext("%(h)s h ago"), { h: Math.floor(minutes / 60) }, true);
    var days = Math.floor(minutes / (24 * 60));
    if (days < 7) return interpolate(ngettext("%(d)s day ago", "%(d)s days ago", days), { d: days }, true);
    return stamp(date, now);
  }

  // "15:07": a message's clock time in the thread (stamp's time alone).
  function clock(date) {
    var p = parts(date);
    return p.hour + ":" + p.minute;
  }

  // The thread's own: how long ago while under a day, then the clock time (the day is named
  // by the separator above it). workspace/templatetags/ui.py recent().
  function recent(date, now) {
    return now - date < 24 * 60 * 60000 ? ago(date, now) : clock(date);
  }

  // The calendar day of a moment in the agent's zone, as "2026-12-07".
  var dayFormatters = {};
  function localDay(date) {
    var tz = zone();
    if (!dayFormatters[tz]) {
      try {
        dayFormatters[tz] = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
      } catch (e) { dayFormatters[tz] = new Intl.DateTimeFormat("en-CA", { timeZone: "UTC", year: "numeric", month: "2-digit", day: "2-digit" }); }
    }
    var p = {};
    dayFormatters[tz].formatToParts(date).forEach(function (x) { p[x.type] = x.value; });
    return p.year + "-" + p.month + "-" + p.day;
  }

  // A day separator's words (workspace/thread.py day_label): "Today", "Yesterday", "Mon 7 Dec",
  // "Mon 7 Dec 2025"; kept right when the agent's midnight passes with the page open.
  function dayLabel(day, now) {
    var noon = new Date(day + "T12:00:00Z");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || isNaN(noon)) return null;
    var back = Math.round((Date.parse(localDay(now) + "T12:00:00Z") - noon) / (24 * 60 * 60000));
    if (back === 0) return gettext("Today");
    if (back === 1) return gettext("Yesterday");
    var p = parts(noon, "UTC");
    var text = p.weekday + " " + p.day + " " + p.month;
    return p.year === parts(now).year ? text : text + " " + p.year;
  }

  function tick() {
    var now = new Date();
    Array.prototype.forEach.call(document.querySelectorAll("time[data-day]"), function (el) {
      var text = dayLabel(el.getAttribute("datetime"), now);
      if (text && el.textContent !== text) el.textContent = text;
    });
    Array.prototype.forEach.call(document.querySelectorAll("time[data-stamp], time[data-relative], time[data-clock]"), function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      var mode = el.getAttribute("data-relative");
      var text = el.hasAttribute("data-clock") ? clock(date) : mode === "clock" ? recent(date, now) : mode !== null ? ago(date, now) : stamp(date, now);
      if (el.textContent !== text) el.textContent = text;
      if (el.hasAttribute("data-relative") || el.hasAttribute("data-clock")) {
        var title = stamp(date, now);
        if (el.title !== title) el.title = title;
      }
    });
  }

  var pending = null;
  function soon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; tick(); }, 50);
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // No zone stored yet: the browser's, once. An agent's own pick is never overridden.
  function reportZone() {
    var url = body.getAttribute("data-profile-url");
    if (!url || body.getAttribute("data-tz")) return;
    var form = new FormData();
    form.append("time_zone", browserZone());
    form.append("auto", "1");
    fetch(url, { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && d.time_zone) { body.setAttribute("data-tz", d.time_zone); tick(); } })
      .catch(function () { /* next page load tries again */ });
  }

  window.switchboardTimes = { stamp: stamp, ago: ago, clock: clock, recent: recent, dayLabel: dayLabel, zone: zone, tick: tick };

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    reportZone();
    // Live: looked at four times a minute (a text changes only when its minute does, so no
    // relative time is ever more than 15 s behind); whatever the feed or htmx adds, at once.
    setInterval(tick, 15000);
    if (window.MutationObserver) new MutationObserver(soon).observe(body, { childList: true, subtree: true });
  });
})();
