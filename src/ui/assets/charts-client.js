/*
 * MailCheck Edge charts: draws every element with a `data-chart` attribute with uPlot (bundled before
 * this file in /ui/assets/charts.js). The pages are complete without it: each chart's data is also a
 * table beside it, so this script only adds the picture. Edit this file, then run
 * `npx tsx scripts/build-chart-assets.ts` to regenerate src/ui/assets/charts.generated.ts.
 *
 * data-chart = {"x": [unix seconds...], "percent": bool, "series": [{"label", "values": [n|null...], "tone"}]}
 */
(function () {
  'use strict';
  if (typeof uPlot !== 'function' || !document.querySelectorAll) return;

  // GOV.UK palette; every series also has its own dash pattern and point shape size, so colour is
  // never the only way to tell two lines apart (the legend names them, the table has the numbers).
  var TONES = {
    blue: { stroke: '#1d70b8', dash: [] },
    green: { stroke: '#00703c', dash: [] },
    red: { stroke: '#d4351c', dash: [8, 4] },
    black: { stroke: '#0b0c0c', dash: [2, 3] },
    orange: { stroke: '#b45309', dash: [12, 4, 2, 4] },
    purple: { stroke: '#4c2c92', dash: [4, 4] },
  };
  var HEIGHT = 280;
  var MONTH = 30 * 86400;
  var COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8];

  function numberText(value, percent) {
    if (value === null || value === undefined) return '–';
    if (percent) return (Math.round(value * 10) / 10).toLocaleString('en-GB') + '%';
    return Math.round(value).toLocaleString('en-GB');
  }

  function widthOf(el) {
    return Math.max(260, Math.floor(el.getBoundingClientRect().width));
  }

  function draw(el) {
    var spec;
    try {
      spec = JSON.parse(el.getAttribute('data-chart'));
    } catch (e) {
      return null;
    }
    if (!spec || !spec.x || spec.x.length === 0) return null;
    var percent = Boolean(spec.percent);
    var series = [{ label: spec.xLabel || 'Date', value: spec.monthly ? '{YYYY}-{MM}' : '{YYYY}-{MM}-{DD}' }];
    var data = [spec.x];
    spec.series.forEach(function (s) {
      var tone = TONES[s.tone] || TONES.blue;
      series.push({
        label: s.label,
        stroke: tone.stroke,
        dash: tone.dash,
        width: 2,
        spanGaps: false,
        points: { show: spec.x.length <= 60, size: 6 },
        value: function (u, v) {
          return numberText(v, percent);
        },
      });
      data.push(s.values);
    });
    var yAxis = {
      values: function (u, ticks) {
        return ticks.map(function (v) {
          return numberText(v, percent);
        });
      },
      size: 64,
      // Messages come whole: no ticks between integers (1, 1, 0, 0 after rounding).
      incrs: percent ? undefined : COUNT_INCRS,
    };
    var xAxis = spec.monthly
      ? {
          // One tick per month (or per few months), named, rather than uPlot's day ticks.
          incrs: [MONTH, 2 * MONTH, 3 * MONTH, 6 * MONTH, 12 * MONTH],
          values: function (u, ticks) {
            return ticks.map(function (t) {
              return new Date(t * 1000).toLocaleDateString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
            });
          },
          space: 60,
        }
      : {
          // British order (13 Jun), not uPlot's default month/day.
          values: function (u, ticks) {
            return ticks.map(function (t) {
              return new Date(t * 1000).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
            });
          },
          space: 50,
        };
    var opts = {
      width: widthOf(el),
      height: HEIGHT,
      // Room on the right for the last tick's label.
      padding: [12, 32, 0, 0],
      // Report days are UTC days: draw them as such, not in the browser's zone.
      tzDate: function (ts) {
        return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
      },
      scales: {
        x: { time: true },
        y: percent ? { range: [0, 100] } : { range: function (u, min, max) { return [0, Math.max(1, max)]; } },
      },
      series: series,
      axes: [xAxis, yAxis],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    el.textContent = '';
    el.classList.add('chart--drawn');
    return new uPlot(opts, data, el);
  }

  var charts = [];
  Array.prototype.forEach.call(document.querySelectorAll('[data-chart]'), function (el) {
    var chart = draw(el);
    if (!chart) return;
    charts.push({ el: el, chart: chart });
    // The chart now shows the picture; its table stays one click away instead of pushing the page down.
    var figure = el.closest('figure');
    var details = figure && figure.querySelector('details[data-chart-table]');
    if (details) details.removeAttribute('open');
  });

  var pending = null;
  window.addEventListener('resize', function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () {
      charts.forEach(function (c) {
        c.chart.setSize({ width: widthOf(c.el), height: HEIGHT });
      });
    }, 150);
  });
})();
