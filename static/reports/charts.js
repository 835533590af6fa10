/* Switchboard charts: small SVG line, bar and heatmap charts in plain JavaScript (no library,
 * no inline script, no CDN). window.SwitchboardCharts.line(el, opts), .bars(el, opts),
 * .heatmap(el, opts). Each draws an <svg role="img"> with a <title>, a legend, and a <title> on
 * every point or cell, so values show on hover and reach screen readers. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#2b6cb0", "#c05621", "#276749", "#9b2c2c", "#6b46c1", "#975a16", "#2c7a7b", "#b83280"];

  function node(name, attrs, parent) {
    var el = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(el);
    return el;
  }

  function text(parent, x, y, value, cls, anchor) {
    var t = node("text", { x: x, y: y, "class": cls || "axis", "text-anchor": anchor || "start" }, parent);
    t.textContent = value;
    return t;
  }

  var LABEL_GAP = 6;

  function textWidth(t) {
    // Measured once drawn (user units, so the viewBox scaling does not matter); estimated when
    // the chart is not rendered (display: none).
    var w = t.getComputedTextLength ? t.getComputedTextLength() : 0;
    return w > 0 ? w : t.textContent.length * 6.5;
  }

  /* X-axis labels centred on xs (evenly spaced), thinned to what fits side by side: every
   * k-th label, k as small as the widest label allows, always the first and the last (an
   * interior label too close to the last gives way). */
  function xLabels(svg, xs, labels, y) {
    var n = labels.length;
    var drawn = labels.map(function (label, i) { return text(svg, xs[i], y, label, "axis", "middle"); });
    var widths = drawn.map(textWidth);
    var widest = Math.max.apply(null, widths.concat([0]));
    var space = n > 1 ? xs[1] - xs[0] : Infinity;
    var every = Math.max(1, Math.ceil((widest + LABEL_GAP) / space));
    drawn.forEach(function (t, i) {
      if (i === n - 1) return;
      var clearOfLast = xs[n - 1] - xs[i] >= (widths[i] + widths[n - 1]) / 2 + LABEL_GAP;
      if (i % every || (i > 0 && !clearOfLast)) svg.removeChild(t);
    });
  }

  /* Rounding with as many decimals as a quarter of `max` needs, so ticks never all read "0". */
  // Axis and tooltip figures in the page's language (0.5 in English, 0,5 in Indonesian).
  var NUMBER = new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 6 });
  function fitting(max) {
    var decimals = Math.max(0, Math.min(6, 1 - Math.floor(Math.log10(max / 4))));
    var f = Math.pow(10, decimals);
    return function (v) { return NUMBER.format(Math.round(v * f) / f); };
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= value) return steps[i] * p;
    return 10 * p;
  }

  function svgFor(el, width, height, title) {
    el.textContent = "";
    var svg = node("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img", "class": "sb-chart" }, el);
    node("title", {}, svg).textContent = title || "";
    return svg;
  }

  function legend(el, series) {
    var ul = document.createElement("ul");
    ul.className = "legend";
    series.forEach(function (s, i) {
      var li = document.createElement("li");
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = s.color || PALETTE[i % PALETTE.length];
      li.appendChild(sw);
      li.appendChild(document.createTextNode(s.name));
      ul.appendChild(li);
    });
    el.appendChild(ul);
  }

  function frame(svg, o, labels, max, format) {
    var W = o.width, H = o.height, L = o.left, B = o.bottom, T = 10, R = 34;
    var plotW = W - L - R, plotH = H - T - B;
    for (var g = 0; g <= 4; g++) {
      var y = T + plotH - (plotH * g) / 4;
      node("line", { x1: L, x2: W - R, y1: y, y2: y, "class": "grid" }, svg);
      text(svg, L - 6, y + 4, format((max * g) / 4), "axis", "end");
    }
    xLabels(svg, labels.map(function (label, i) {
      return L + (labels.length === 1 ? plotW / 2 : (plotW * i) / (labels.length - 1));
    }), labels, H - B + 16);
    return { L: L, T: T, plotW: plotW, plotH: plotH };
  }

  /* opts: {labels: [..], series: [{name, values: [number|null]}], title, format(v)} */
  function line(el, opts) {
    var o = { width: 640, height: 240, left: 52, bottom: 28 };
    var all = [];
    opts.series.forEach(function (s) { s.values.forEach(function (v) { if (v != null) all.push(v); }); });
    var max = opts.max || niceMax(Math.max.apply(null, all.concat([0])));
    var format = opts.format || fitting(max);
    var svg = svgFor(el, o.width, o.height, opts.title);
    var f = frame(svg, o, opts.labels, max, format);
    var n = opts.labels.length;
    opts.series.forEach(function (s, si) {
      var color = s.color || PALETTE[si % PALETTE.length];
      var d = "", pen = false;
      s.values.forEach(function (v, i) {
        if (v == null) { pen = false; return; }
        var x = f.L + (n === 1 ? f.plotW / 2 : (f.plotW * i) / (n - 1));
        var y = f.T + f.plotH - (f.plotH * v) / max;
        d += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
        pen = true;
        var dot = node("circle", { cx: x, cy: y, r: 3, fill: color, "class": "point" }, svg);
        node("title", {}, dot).textContent = s.name + ", " + opts.labels[i] + ": " + format(v);
      });
      node("path", { d: d, stroke: color, fill: "none", "stroke-width": 2, "class": "series" }, svg);
    });
    legend(el, opts.series);
    return svg;
  }

  /* opts: {labels, series: [{name, values}], title, format} drawn as grouped bars */
  function bars(el, opts) {
    var o = { width: 640, height: 240, left: 52, bottom: 28 };
    var all = [];
    opts.series.forEach(function (s) { s.values.forEach(function (v) { all.push(v || 0); }); });
    var max = niceMax(Math.max.apply(null, all.concat([0])));
    var format = opts.format || fitting(max);
    var svg = svgFor(el, o.width, o.height, opts.title);
    var L = o.left, T = 10, plotW = o.width - L - 34, plotH = o.height - T - o.bottom;
    for (var g = 0; g <= 4; g++) {
      var gy = T + plotH - (plotH * g) / 4;
      node("line", { x1: L, x2: o.width - 34, y1: gy, y2: gy, "class": "grid" }, svg);
      text(svg, L - 6, gy + 4, format((max * g) / 4), "axis", "end");
    }
    var n = opts.labels.length, k = opts.series.length;
    var slot = plotW / Math.max(n, 1), bw = Math.max(1, (slot * 0.8) / k);
    opts.labels.forEach(function (label, i) {
      opts.series.forEach(function (s, si) {
        var v = s.values[i] || 0, h = (plotH * v) / max;
        var rect = node("rect", {
          x: L + slot * i + slot * 0.1 + bw * si, y: T + plotH - h, width: bw, height: h,
          fill: s.color || PALETTE[si % PALETTE.length], "class": "sb-bar"
        }, svg);
        node("title", {}, rect).textContent = s.name + ", " + label + ": " + format(v);
      });
    });
    xLabels(svg, opts.labels.map(function (label, i) { return L + slot * i + slot / 2; }),
      opts.labels, o.height - o.bottom + 16);
    legend(el, opts.series);
    return svg;
  }

  /* opts: {rows: [{label, values: [24 numbers]}], columns: [labels], title} */
  function heatmap(el, opts) {
    var cols = opts.columns.length, cw = 22, ch = 22, L = 40, T = 18;
    var width = L + cols * cw + 4, height = T + opts.rows.length * ch + 4;
    var svg = svgFor(el, width, height, opts.title);
    var max = 0;
    opts.rows.forEach(function (r) { r.values.forEach(function (v) { if (v > max) max = v; }); });
    opts.columns.forEach(function (c, j) { if (j % 3 === 0) text(svg, L + j * cw + cw / 2, 12, c, "axis", "middle"); });
    opts.rows.forEach(function (r, i) {
      text(svg, L - 6, T + i * ch + ch / 2 + 4, r.label, "axis", "end");
      r.values.forEach(function (v, j) {
        var share = max ? v / max : 0;
        var cell = node("rect", {
          x: L + j * cw, y: T + i * ch, width: cw - 2, height: ch - 2, rx: 3,
          fill: "rgba(43,108,176," + (0.06 + 0.94 * share).toFixed(3) + ")", "class": "cell"
        }, svg);
        node("title", {}, cell).textContent = r.label + " " + opts.columns[j] + ": " + v;
      });
    });
    return svg;
  }

  window.SwitchboardCharts = { line: line, bars: bars, heatmap: heatmap };
})();
