/* leadbot dashboard: draws each <figure class="chart"> from its page's JSON (data-src)
   with uPlot, and again after htmx swaps new content in. No inline script anywhere (the
   Content-Security-Policy forbids it); colours come from the CSS variables. Every chart
   has a table or the chat text next to it, so a failed chart loses nothing. */
(function () {
  "use strict";
  var cache = {};

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function load(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        });
    }
    return cache[url];
  }

  function fmt(unit, v) {
    if (v === null || v === undefined) { return "–"; }
    if (unit === "s") {
      var s = Math.round(v), m = Math.floor(Math.abs(s) / 60), r = Math.abs(s) % 60;
      return (s < 0 ? "-" : "") + m + ":" + (r < 10 ? "0" : "") + r;
    }
    if (unit === "%") { return v.toFixed(1) + "%"; }
    if (unit === "pts") { return (v > 0 ? "+" : "") + Math.round(v); }
    return Math.abs(v) >= 100 ? Math.round(v).toString() : v.toFixed(1);
  }

  // Axis ticks: whole percentages and plain numbers where a figure would have decimals.
  function tick(unit, v) {
    if (unit === "%") { return Math.round(v) + "%"; }
    if (unit === "s" || unit === "pts") { return fmt(unit, v); }
    if (unit === "count") { return Number.isInteger(v) ? v.toString() : ""; }
    return Math.abs(v) >= 10 ? Math.round(v).toString() : v.toFixed(1);
  }

  function axis(unit) {
    return {
      stroke: css("--c-text"),
      grid: { stroke: css("--c-grid"), width: 1 },
      ticks: { stroke: css("--c-grid"), width: 1 },
      values: unit === undefined ? undefined : function (u, vals) { return vals.map(function (v) { return tick(unit, v); }); },
      size: 64
    };
  }

  // The on-target side of the goal, shaded, under the lines.
  function bandHook(goal) {
    return function (u) {
      if (!goal) { return; }
      var ctx = u.ctx, b = u.bbox;
      var y = Math.round(u.valToPos(goal.target, "y", true));
      var above = goal.op === ">=" || goal.op === ">";
      var top = above ? b.top : Math.max(b.top, y);
      var bottom = above ? Math.min(b.top + b.height, y) : b.top + b.height;
      if (bottom <= top) { return; }
      ctx.save();
      ctx.globalAlpha = 0.12;
      ctx.fillStyle = css("--c-band");
      ctx.fillRect(b.left, top, b.width, bottom - top);
      ctx.restore();
    };
  }

  function size(el) {
    return { width: Math.max(280, el.clientWidth || 600), height: 220 };
  }

  function kpi(el, c) {
    var data = [c.x, c.y];
    var series = [{}, { label: c.label, stroke: css("--c-line"), width: 2, spanGaps: false,
      value: function (u, v) { return fmt(c.unit, v); } }];
    var yRange = null;
    if (c.goal) {
      data.push(c.x.map(function () { return c.goal.target; }));
      series.push({ label: "goal " + c.goal.text, stroke: css("--c-goal"), width: 2, dash: [6, 4],
        points: { show: false }, value: function (u, v) { return fmt(c.unit, v); } });
      yRange = function (u, min, max) {
        var lo = Math.min(min === null ? c.goal.target : min, c.goal.target);
        var hi = Math.max(max === null ? c.goal.target : max, c.goal.target);
        var pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
        return [lo - pad, hi + pad];
      };
    }
    var opts = Object.assign(size(el), {
      scales: { x: { time: c.kind !== "daily-index" }, y: yRange ? { range: yRange } : {} },
      series: series,
      axes: [axis(), axis(c.unit)],
      hooks: { drawClear: [bandHook(c.goal)] },
      cursor: { focus: { prox: 16 } }
    });
    return new uPlot(opts, data, el);
  }

  function lines(el, c) {
    var data = [c.x], series = [{}];
    c.lines.forEach(function (line, i) {
      data.push(line.y);
      series.push({ label: line.label, stroke: css("--c-series-" + ((i % 8) + 1)), width: 2,
        value: function (u, v) { return fmt(c.unit, v); } });
    });
    return new uPlot(Object.assign(size(el), { series: series, axes: [axis(), axis(c.unit)] }), data, el);
  }

  function pulse(el, c) {
    var labels = c.labels;
    var opts = Object.assign(size(el), {
      scales: { x: { time: false }, pct: { range: [0, 100] }, enps: { range: [-100, 100] } },
      series: [
        { value: function (u, v) { return v === null ? "" : labels[v - 1]; } },
        { label: "ESAT %", scale: "pct", stroke: css("--c-series-1"), width: 2, value: function (u, v) { return v === null ? "–" : Math.round(v) + "%"; } },
        { label: "participation %", scale: "pct", stroke: css("--c-series-3"), width: 2, dash: [4, 3], value: function (u, v) { return v === null ? "–" : Math.round(v) + "%"; } },
        { label: "eNPS", scale: "enps", stroke: css("--c-series-2"), width: 2, value: function (u, v) { return v === null ? "–" : (v > 0 ? "+" : "") + Math.round(v); } }
      ],
      axes: [
        Object.assign(axis(), { values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) && labels[v - 1] ? labels[v - 1] : ""; }); } }),
        Object.assign(axis(), { scale: "pct", values: function (u, vals) { return vals.map(function (v) { return v + "%"; }); } }),
        Object.assign(axis(), { scale: "enps", side: 1, grid: { show: false } })
      ]
    });
    return new uPlot(opts, [c.x, c.esat, c.participation, c.enps], el);
  }

  var DRAW = { kpi: kpi, curve: kpi, lines: lines, pulse: pulse };

  function draw(fig) {
    if (fig.dataset.drawn) { return; }
    fig.dataset.drawn = "1";
    var plot = fig.querySelector(".plot");
    load(fig.dataset.src).then(function (payload) {
      var c = payload.charts[fig.dataset.chart];
      if (!c) { throw new Error("no chart " + fig.dataset.chart); }
      var u = DRAW[fig.dataset.kind](plot, c);
      window.addEventListener("resize", function () { u.setSize(size(plot)); });
    }).catch(function () {
      var p = document.createElement("p");
      p.className = "failed";
      p.textContent = "The chart could not be drawn; the table has the same figures.";
      plot.appendChild(p);
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("figure.chart[data-src]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) {
    cache = {};
    drawAll(e.target);
  });
})();
