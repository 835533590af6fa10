/* The Reports page: reads each report's JSON (json_script blocks) and draws its chart. */
(function () {
  "use strict";

  function data(name) {
    var el = document.getElementById("data-" + name);
    return el ? JSON.parse(el.textContent) : null;
  }

  function hours(seconds) { return seconds == null ? null : seconds / 3600; }
  function pct(share) { return share == null ? null : Math.round(share * 1000) / 10; }
  function duration(seconds) {
    if (seconds == null) return "—";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (Math.round(seconds / 360) / 10) + " h";
  }

  function summary(name, parts) {
    var el = document.querySelector('[data-summary="' + name + '"]');
    if (!el) return;
    var dl = document.createElement("dl");
    dl.className = "figures";
    parts.forEach(function (p) {
      var dt = document.createElement("dt"); dt.textContent = p[0];
      var dd = document.createElement("dd"); dd.textContent = p[1];
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
      summary("volume", [["Created", v.totals.created], ["Resolved", v.totals.resolved],
        ["Reopened", v.totals.reopened], ["Backlog at end", v.totals.backlog]]);
      C.line(chartEl("volume"), { title: "Conversations per period", labels: labels(v.rows), series: [
        { name: "Created", values: pick(v.rows, function (r) { return r.created; }) },
        { name: "Resolved", values: pick(v.rows, function (r) { return r.resolved; }) },
        { name: "Reopened", values: pick(v.rows, function (r) { return r.reopened; }) },
        { name: "Backlog", values: pick(v.rows, function (r) { return r.backlog; }) }
      ] });
    }
    var t = data("response-times");
    if (t) {
      summary("response-times", [
        ["First response, median", duration(t.totals.first_response.median_seconds)],
        ["First response, 90th pct", duration(t.totals.first_response.p90_seconds)],
        ["Resolution, median", duration(t.totals.resolution.median_seconds)],
        ["Resolution, 90th pct", duration(t.totals.resolution.p90_seconds)]]);
      // Minutes when every value is under an hour and a half, else hours: never an axis of "0"s.
      var longest = 0;
      t.rows.forEach(function (r) {
        [r.first_response.median_seconds, r.first_response.p90_seconds, r.resolution.median_seconds,
         r.resolution.p90_seconds].forEach(function (v) { if (v != null && v > longest) longest = v; });
      });
      var inMinutes = longest < 5400, unit = inMinutes ? "min" : "h";
      var scale = function (seconds) { return seconds == null ? null : (inMinutes ? seconds / 60 : hours(seconds)); };
      C.line(chartEl("response-times"), { title: (inMinutes ? "Minutes" : "Hours") + " (business hours where the SLA counts them)", labels: labels(t.rows), series: [
        { name: "First response median (" + unit + ")", values: pick(t.rows, function (r) { return scale(r.first_response.median_seconds); }) },
        { name: "First response p90 (" + unit + ")", values: pick(t.rows, function (r) { return scale(r.first_response.p90_seconds); }) },
        { name: "Resolution median (" + unit + ")", values: pick(t.rows, function (r) { return scale(r.resolution.median_seconds); }) },
        { name: "Resolution p90 (" + unit + ")", values: pick(t.rows, function (r) { return scale(r.resolution.p90_seconds); }) }
      ] });
    }
    var s = data("sla");
    if (s) {
      var names = { first_response: "First response", next_response: "Next response", resolution: "Resolution" };
      summary("sla", Object.keys(names).map(function (k) {
        var x = s.totals[k];
        return [names[k] + " met", x.share_met == null ? "—" : pct(x.share_met) + " % of " + (x.met + x.missed)];
      }));
      C.line(chartEl("sla"), { title: "Share of SLA targets met, %", max: 100, labels: labels(s.rows),
        series: Object.keys(names).map(function (k) {
          return { name: names[k] + " (%)", values: pick(s.rows, function (r) { return pct(r[k].share_met); }) };
        }) });
    }
    var f = data("first-contact-resolution");
    if (f) {
      summary("first-contact-resolution", [["Resolved", f.totals.resolved],
        ["With one reply, not reopened", f.totals.first_contact],
        ["Rate", f.totals.rate == null ? "—" : pct(f.totals.rate) + " %"]]);
      C.line(chartEl("first-contact-resolution"), { title: "First-contact resolution rate, %", max: 100, labels: labels(f.rows),
        series: [{ name: "Rate (%)", values: pick(f.rows, function (r) { return pct(r.rate); }) }] });
    }
    var c = data("csat");
    if (c) {
      summary("csat", [["Average score", c.totals.average_score == null ? "—" : c.totals.average_score + " / 5"],
        ["Surveys sent", c.totals.sent],
        ["Response rate", c.totals.response_rate == null ? "—" : pct(c.totals.response_rate) + " %"],
        ["Answers", c.totals.answered]]);
      C.bars(chartEl("csat"), { title: "Surveys sent and answered", labels: labels(c.rows), series: [
        { name: "Sent", values: pick(c.rows, function (r) { return r.sent; }) },
        { name: "Answered", values: pick(c.rows, function (r) { return r.answered; }) }
      ] });
    }
    // NPS and CES: figures and tables are in the page (translated); titles come from data-*.
    var n = data("nps"), nEl = chartEl("nps");
    if (n && nEl) {
      var ns = (nEl.dataset.series || "Promoters|Passives|Detractors").split("|");
      C.bars(nEl, { title: nEl.dataset.title || "", labels: labels(n.rows), series: [
        { name: ns[0], values: pick(n.rows, function (r) { return r.promoters; }) },
        { name: ns[1], values: pick(n.rows, function (r) { return r.passives; }) },
        { name: ns[2], values: pick(n.rows, function (r) { return r.detractors; }) }
      ] });
    }
    var e = data("ces"), eEl = chartEl("ces");
    if (e && eEl) {
      C.line(eEl, { title: eEl.dataset.title || "", max: 7, labels: labels(e.rows), series: [
        { name: eEl.dataset.series || "Average", values: pick(e.rows, function (r) { return r.average; }) }
      ] });
    }
    var w = data("workload");
    if (w) {
      var agents = w.agents.slice(0, 15);
      C.bars(chartEl("workload"), { title: "Per agent", labels: agents.map(function (a) { return a.name; }), series: [
        { name: "Assigned", values: agents.map(function (a) { return a.assigned; }) },
        { name: "Resolved", values: agents.map(function (a) { return a.resolved; }) }
      ] });
      document.querySelectorAll("#report-workload td[data-seconds]").forEach(function (td) {
        if (td.dataset.seconds) td.textContent = duration(parseFloat(td.dataset.seconds));
      });
    }
    var g = data("tags");
    if (g) {
      var top = g.tags.slice(0, 8);
      C.line(chartEl("tags"), { title: "Conversations per tag", labels: labels(g.rows),
        series: top.map(function (tag) {
          return { name: tag, values: pick(g.rows, function (r) { return r.counts[tag] || 0; }) };
        }) });
    }
    var p = data("phrases");
    if (p) {
      var phrases = p.phrases.slice(0, 10);
      C.bars(chartEl("phrases"), { title: "Conversations using each phrase",
        labels: phrases.map(function (x, i) { return String(i + 1); }),
        series: [{ name: "Conversations (numbered as in the list)", values: phrases.map(function (x) { return x.conversations; }) }] });
    }
    var h = data("busiest-hours");
    if (h) {
      var cols = []; for (var i = 0; i < 24; i++) cols.push((i < 10 ? "0" : "") + i);
      summary("busiest-hours", [["Arrivals", h.total], ["Time zone", h.time_zone]]);
      C.heatmap(chartEl("busiest-hours"), { title: "Arrivals by weekday and hour", columns: cols,
        rows: h.rows.map(function (r) { return { label: r.weekday, values: r.hours }; }) });
    }
    document.body.setAttribute("data-charts", "drawn");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
