/* The Reports page: reads each report's JSON (json_script blocks) and draws its chart. */
(function () {
  "use strict";

  function data(name) {
    var el = document.getElementById("data-" + name);
    return el ? JSON.parse(el.textContent) : null;
  }

  // Figures as the page's language writes them: 12,345 and 95.5 in English, 12.345 and 95,5 in
  // Indonesian.
  var NUMBER = new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 2 });
  // The heatmap's rows, Monday first, in the page's language (the API keeps "Mon".."Sun").
  var WEEKDAYS = (function () {
    var day = new Intl.DateTimeFormat(document.documentElement.lang || "en", { weekday: "short", timeZone: "UTC" });
    return [0, 1, 2, 3, 4, 5, 6].map(function (i) { return day.format(new Date(Date.UTC(2024, 0, 1 + i))); });  // 1 Jan 2024: a Monday
  })();
  function num(v) { return typeof v === "number" ? NUMBER.format(v) : v; }
  function hours(seconds) { return seconds == null ? null : seconds / 3600; }
  function pct(share) { return share == null ? null : Math.round(share * 1000) / 10; }
  function percent(share) { return share == null ? "—" : num(pct(share)) + " %"; }
  function duration(seconds) {
    if (seconds == null) return "—";
    if (seconds < 90) return interpolate(gettext("%(n)s s"), { n: num(Math.round(seconds)) }, true);
    if (seconds < 5400) return interpolate(gettext("%(m)s min"), { m: num(Math.round(seconds / 60)) }, true);
    return interpolate(gettext("%(n)s h"), { n: num(Math.round(seconds / 360) / 10) }, true);
  }

  function summary(name, parts) {
    var el = document.querySelector('[data-summary="' + name + '"]');
    if (!el) return;
    var dl = document.createElement("dl");
    dl.className = "figures";
    parts.forEach(function (p) {
      var dt = document.createElement("dt"); dt.textContent = p[0];
      var dd = document.createElement("dd"); dd.textContent = num(p[1]);
      dl.appendChild(dt); dl.appendChild(dd);
    });
    el.appendChild(dl);
  }

  function chartEl(name) { return document.querySelector('[data-chart="' + name + '"]'); }
  function labels(rows) { return rows.map(function (r) { return r.period; }); }
  function pick(rows, fn) { return rows.map(fn); }

  function draw() {
    var C = window.SwitchboardCharts;
    if (!C) return;
    var v = data("volume");
    if (v) {
      summary("volume", [[gettext("Created"), v.totals.created], [gettext("Resolved"), v.totals.resolved],
        [gettext("Reopened"), v.totals.reopened], [gettext("Backlog at end"), v.totals.backlog]]);
      C.line(chartEl("volume"), { title: gettext("Conversations per period"), labels: labels(v.rows), series: [
        { name: gettext("Created"), values: pick(v.rows, function (r) { return r.created; }) },
        { name: gettext("Resolved"), values: pick(v.rows, function (r) { return r.resolved; }) },
        { name: gettext("Reopened"), values: pick(v.rows, function (r) { return r.reopened; }) },
        { name: gettext("Backlog"), values: pick(v.rows, function (r) { return r.backlog; }) }
      ] });
    }
    var t = data("response-times");
    if (t) {
      summary("response-times", [
        [gettext("First response, median"), duration(t.totals.first_response.median_seconds)],
        [gettext("First response, 90th pct"), duration(t.totals.first_response.p90_seconds)],
        [gettext("Resolution, median"), duration(t.totals.resolution.median_seconds)],
        [gettext("Resolution, 90th pct"), duration(t.totals.resolution.p90_seconds)]]);
      // Minutes when every value is under an hour and a half, else hours: never an axis of "0"s.
      var longest = 0;
      t.rows.forEach(function (r) {
        [r.first_response.median_seconds, r.first_response.p90_seconds, r.resolution.median_seconds,
         r.resolution.p90_seconds].forEach(function (v) { if (v != null && v > longest) longest = v; });
      });
      var inMinutes = longest < 5400, unit = inMinutes ? gettext("min") : gettext("h");
      var scale = function (seconds) { return seconds == null ? null : (inMinutes ? seconds / 60 : hours(seconds)); };
      C.line(chartEl("response-times"), { title: inMinutes ? gettext("Minutes (business hours where the SLA counts them)") : gettext("Hours (business hours where the SLA counts them)"), labels: labels(t.rows), series: [
        { name: interpolate(gettext("First response median (%(unit)s)"), { unit: unit }, true), values: pick(t.rows, function (r) { return scale(r.first_response.median_seconds); }) },
        { name: interpolate(gettext("First response p90 (%(unit)s)"), { unit: unit }, true), values: pick(t.rows, function (r) { return scale(r.first_response.p90_seconds); }) },
        { name: interpolate(gettext("Resolution median (%(unit)s)"), { unit: unit }, true), values: pick(t.rows, function (r) { return scale(r.resolution.median_seconds); }) },
        { name: interpolate(gettext("Resolution p90 (%(unit)s)"), { unit: unit }, true), values: pick(t.rows, function (r) { return scale(r.resolution.p90_seconds); }) }
      ] });
    }
    var s = data("sla");
    if (s) {
      var names = { first_response: gettext("First response"), next_response: gettext("Next response"), resolution: gettext("Resolution") };
      summary("sla", Object.keys(names).map(function (k) {
        var x = s.totals[k];
        return [interpolate(gettext("%(target)s met"), { target: names[k] }, true), x.share_met == null ? "—" : interpolate(gettext("%(share)s of %(n)s"), { share: percent(x.share_met), n: num(x.met + x.missed) }, true)];
      }));
      C.line(chartEl("sla"), { title: gettext("Share of SLA targets met, %"), max: 100, labels: labels(s.rows),
        series: Object.keys(names).map(function (k) {
          return { name: names[k] + " (%)", values: pick(s.rows, function (r) { return pct(r[k].share_met); }) };
        }) });
    }
    var f = data("first-contact-resolution");
    if (f) {
      summary("first-contact-resolution", [[gettext("Resolved"), f.totals.resolved],
        [gettext("With one reply, not reopened"), f.totals.first_contact],
        [gettext("Rate"), percent(f.totals.rate)]]);
      C.line(chartEl("first-contact-resolution"), { title: gettext("First-contact resolution rate, %"), max: 100, labels: labels(f.rows),
        series: [{ name: gettext("Rate (%)"), values: pick(f.rows, function (r) { return pct(r.rate); }) }] });
    }
    var c = data("csat");
    if (c) {
      summary("csat", [[gettext("Average score"), c.totals.average_score == null ? "—" : interpolate(gettext("%(n)s / 5"), { n: num(c.totals.average_score) }, true)],
        [gettext("Surveys sent"), c.totals.sent],
        [gettext("Response rate"), percent(c.totals.response_rate)],
        [gettext("Answers"), c.totals.answered]]);
      C.bars(chartEl("csat"), { title: gettext("Surveys sent and answered"), labels: labels(c.rows), series: [
        { name: gettext("Sent"), values: pick(c.rows, function (r) { return r.sent; }) },
        { name: gettext("Answered"), values: pick(c.rows, function (r) { return r.answered; }) }
      ] });
    }
    // NPS and CES: figures and tables are in the page (translated); titles come from data-*.
    var n = data("nps"), nEl = chartEl("nps");
    if (n && nEl) {
      var ns = (nEl.dataset.series || gettext("Promoters") + "|" + gettext("Passives") + "|" + gettext("Detractors")).split("|");
      C.bars(nEl, { title: nEl.dataset.title || "", labels: labels(n.rows), series: [
        { name: ns[0], values: pick(n.rows, function (r) { return r.promoters; }) },
        { name: ns[1], values: pick(n.rows, function (r) { return r.passives; }) },
        { name: ns[2], values: pick(n.rows, function (r) { return r.detractors; }) }
      ] });
    }
    var e = data("ces"), eEl = chartEl("ces");
    if (e && eEl) {
      C.line(eEl, { title: eEl.dataset.title || "", max: 7, labels: labels(e.rows), series: [
        { name: eEl.dataset.series || gettext("Average"), values: pick(e.rows, function (r) { return r.average; }) }
      ] });
    }
    var w = data("workload");
    if (w) {
      var agents = w.agents.slice(0, 15);
      C.bars(chartEl("workload"), { title: gettext("Per agent"), labels: agents.map(function (a) { return a.name; }), series: [
        { name: gettext("Assigned"), values: agents.map(function (a) { return a.assigned; }) },
        { name: gettext("Resolved"), values: agents.map(function (a) { return a.resolved; }) }
      ] });
      document.querySelectorAll("#report-workload td[data-seconds]").forEach(function (td) {
        if (td.dataset.seconds) td.textContent = duration(parseFloat(td.dataset.seconds));
      });
    }
    var g = data("tags");
    if (g) {
      var top = g.tags.slice(0, 8);
      C.line(chartEl("tags"), { title: gettext("Conversations per tag"), labels: labels(g.rows),
        series: top.map(function (tag) {
          return { name: tag, values: pick(g.rows, function (r) { return r.counts[tag] || 0; }) };
        }) });
    }
    var p = data("phrases");
    if (p) {
      var phrases = p.phrases.slice(0, 10);
      C.bars(chartEl("phrases"), { title: gettext("Conversations using each phrase"),
        labels: phrases.map(function (x, i) { return String(i + 1); }),
        series: [{ name: gettext("Conversations (numbered as in the list)"), values: phrases.map(function (x) { return x.conversations; }) }] });
    }
    var h = data("busiest-hours");
    if (h) {
      var cols = []; for (var i = 0; i < 24; i++) cols.push((i < 10 ? "0" : "") + i);
      summary("busiest-hours", [[gettext("Arrivals"), h.total], [gettext("Time zone"), h.time_zone]]);
      C.heatmap(chartEl("busiest-hours"), { title: gettext("Arrivals by weekday and hour"), columns: cols,
        rows: h.rows.map(function (r, i) { return { label: WEEKDAYS[i] || r.weekday, values: r.hours }; }) });
    }
    document.body.setAttribute("data-charts", "drawn");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
