// evhub console: live regions fed by the event stream, the site power chart, CSRF for htmx.
(function () {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (e) {
    if (csrf) e.detail.headers["X-CSRF-Token"] = csrf.content;
  });

  // A refused value comes back as a 422 page fragment with its reason: shown in place too.
  document.addEventListener("htmx:beforeSwap", function (e) {
    const type = e.detail.xhr.getResponseHeader("Content-Type") || "";
    if (e.detail.xhr.status === 422 && type.indexOf("text/html") === 0) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // A live region has data-src (a fragment URL) and data-live (the event kinds it follows).
  // On a matching event it is fetched again, at most once per data-live-min milliseconds.
  const timers = new WeakMap();
  const last = new WeakMap();

  async function refresh(el) {
    last.set(el, Date.now());
    if (el.id === "power-chart") return drawChart(el);
    const r = await fetch(el.dataset.src, { headers: { "HX-Request": "true" } });
    if (r.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
    if (!r.ok) return;
    el.innerHTML = await r.text();
    if (window.htmx) window.htmx.process(el);
    el.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
  }

  function schedule(el) {
    if (timers.get(el)) return;
    const spacing = Number(el.dataset.liveMin || 300);
    const wait = Math.max(150, spacing - (Date.now() - (last.get(el) || 0)));
    timers.set(el, setTimeout(function () { timers.delete(el); refresh(el); }, wait));
  }

  function listen() {
    const regions = Array.from(document.querySelectorAll("[data-live][data-src]"));
    if (!regions.length || !window.EventSource) return;
    const kinds = new Set();
    regions.forEach(function (el) { el.dataset.live.split(/\s+/).forEach(function (k) { kinds.add(k); }); });
    const source = new EventSource("/api/v1/events?kinds=" + encodeURIComponent(Array.from(kinds).join(",")));
    kinds.forEach(function (kind) {
      source.addEventListener(kind, function () {
        regions.forEach(function (el) {
          if (el.dataset.live.split(/\s+/).indexOf(kind) >= 0) schedule(el);
        });
      });
    });
    source.onopen = function () { document.body.dataset.live = "on"; };
    source.onerror = function () { document.body.dataset.live = "off"; };
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // The site chart: measured load, plan and grid limit over the site's local day (uPlot).
  let chart = null;

  async function drawChart(el) {
    if (!window.uPlot) return;
    const r = await fetch(el.dataset.src);
    if (!r.ok) return;
    const d = await r.json();
    const limit = d.t.map(function () { return d.grid_limit_kw; });
    const data = [d.t, d.measured_kw, d.planned_kw, limit];
    const width = Math.max(280, el.clientWidth);
    if (chart) { chart.setData(data); el.dataset.points = String(countPoints(d.measured_kw)); return; }
    const opts = {
      width: width, height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), d.timezone); },
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: function (u, min, max) { return [0, Math.max(max, d.grid_limit_kw) * 1.1]; } } },
      axes: [{ values: function (u, splits) { return splits.map(function (ts) { return hhmm(ts, d.timezone); }); } },
             { label: "kW", size: 50 }],
      series: [
        {},
        { label: "measured", stroke: "#1f6feb", width: 2, fill: "rgba(31,111,235,.10)", spanGaps: false },
        { label: "plan", stroke: "#d97706", width: 2, dash: [6, 4] },
        { label: "grid limit", stroke: "#cf222e", width: 1.5 },
      ],
    };
    chart = new uPlot(opts, data, el);
    el.dataset.points = String(countPoints(d.measured_kw));
    window.addEventListener("resize", function () { chart.setSize({ width: Math.max(280, el.clientWidth), height: 260 }); });
  }

  function hhmm(ts, tz) {
    const t = uPlot.tzDate(new Date(ts * 1e3), tz);
    return String(t.getHours()).padStart(2, "0") + ":" + String(t.getMinutes()).padStart(2, "0");
  }

  function countPoints(values) {
    return values.filter(function (v) { return v !== null && v > 0; }).length;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const el = document.getElementById("power-chart");
    if (el) {
      drawChart(el);
      setInterval(function () { schedule(el); }, 30000);
      el.dataset.liveMin = el.dataset.liveMin || "5000";
    }
    listen();
  });
})();
