// The reports page: energy per day as bars (uPlot), from the series the page carries.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const el = document.getElementById("energy-chart");
    if (!el || !window.uPlot) return;
    const d = JSON.parse(el.dataset.series);
    const tz = el.dataset.timezone;
    const bars = uPlot.paths.bars({ size: [0.7, 40] });
    const opts = {
      width: Math.max(280, el.clientWidth), height: 220,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); },
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
      axes: [{}, { label: "kWh", size: 50 }],
      series: [{}, { label: "energy", stroke: "#2a7ab0", fill: "rgba(42,122,176,.6)", paths: bars, points: { show: false } }],
    };
    const chart = new uPlot(opts, [d.t, d.kwh], el);
    el.dataset.drawn = String(d.t.length);
    window.addEventListener("resize", function () {
      chart.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
    });
  });
})();
