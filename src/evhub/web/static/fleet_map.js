// evhub console, fleet page: the hubs and each shared car on a Leaflet map, coloured by the
// car's state, with a list beside it; the positions are asked again every data-refresh-s.
(function () {
  "use strict";

  const RING_PX = 16; // cars at one place stand on a ring around it, this far from its centre

  function text(value) {
    const span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span.innerHTML;
  }

  function when(iso, tz) {
    if (!iso) return "–";
    const options = { weekday: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    try { return new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: tz }, options)).format(new Date(iso)); }
    catch (e) { return new Date(iso).toISOString().slice(0, 16).replace("T", " "); }
  }

  function level(car) {
    if (car.soc != null) return Math.round(car.soc) + " %";
    if (car.fuel != null) return Math.round(car.fuel) + " % fuel";
    return "–";
  }

  function seen(car, tz) {
    if (car.source === "telematics") return "read " + when(car.reported_at, tz);
    return car.source === "hub" ? "at its hub, not read yet" : "place unknown";
  }

  function popup(car, tz) {
    return "<b>" + text(car.plate) + "</b> " + text(car.make + " " + car.model) + "<br>" +
      text(car.state.replace("_", " ")) + " · " + text(level(car)) + " · " + Math.round(car.range_km) + " km<br>" +
      "next booking: " + (car.next_booking_id ? "#" + car.next_booking_id + " " + text(when(car.next_booking_starts_at, tz)) : "–") +
      "<br><small>" + text(seen(car, tz)) + "</small>";
  }

  function spot(lat, lon) { return lat.toFixed(5) + "," + lon.toFixed(5); }

  // Pixel offsets that spread the cars sharing one place on a ring, so that each can be seen
  // (at a hub's place, even one car: the hub's marker stays visible in the middle).
  function offsets(cars, hubSpots) {
    const groups = new Map();
    cars.forEach(function (car) {
      const key = spot(car.lat, car.lon);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(car);
    });
    const out = new Map();
    groups.forEach(function (group, key) {
      group.forEach(function (car, i) {
        if (group.length === 1 && !hubSpots.has(key)) { out.set(car.vehicle_id, [0, 0]); return; }
        const angle = 2 * Math.PI * i / group.length - Math.PI / 2;
        const r = RING_PX * Math.max(1, group.length / 8);
        out.set(car.vehicle_id, [Math.round(r * Math.cos(angle)), Math.round(r * Math.sin(angle))]);
      });
    });
    return out;
  }

  function carIcon(car, offset) {
    return window.L.divIcon({
      className: "car-marker car-" + car.state, iconSize: [14, 14],
      iconAnchor: [7 - offset[0], 7 - offset[1]], popupAnchor: [offset[0], offset[1] - 6],
    });
  }

  function start(section) {
    const L = window.L;
    const hubs = JSON.parse(document.getElementById("fleet-map-hubs").textContent);
    const zones = new Map(hubs.map(function (h) { return [h.id, h.tz]; }));
    const map = L.map("fleet-map", { scrollWheelZoom: false });
    if (section.dataset.tiles) {
      L.tileLayer(section.dataset.tiles, { maxZoom: 19, attribution: section.dataset.attribution }).addTo(map);
    }
    const located = hubs.filter(function (h) { return h.lat != null && h.lon != null; });
    const hubSpots = new Set(located.map(function (h) { return spot(h.lat, h.lon); }));
    const markers = new Map();
    let fitted = false;

    // A marker is drawn once the map has a view: the hubs' first, the cars' with them after.
    function fit(cars) {
      const points = located.map(function (h) { return [h.lat, h.lon]; })
        .concat(cars.map(function (c) { return [c.lat, c.lon]; }));
      if (!points.length) { map.setView([46.5, 2.5], 5); return; }
      map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 16 });
    }

    fit([]);
    located.forEach(function (h) {
      const icon = L.divIcon({ className: "hub-marker", iconSize: [18, 18] });
      const marker = L.marker([h.lat, h.lon], { icon: icon, zIndexOffset: -1000, keyboard: false }).addTo(map);
      marker.getElement().dataset.site = h.id;
      marker.bindTooltip(text(h.name), { permanent: true, direction: "right", offset: [10, 0], className: "hub-label" });
    });

    function draw(cars) {
      const placed = cars.filter(function (c) { return c.lat != null && c.lon != null; });
      if (!fitted) { fit(placed); fitted = true; }
      const spread = offsets(placed, hubSpots);
      const ids = new Set();
      placed.forEach(function (car) {
        ids.add(car.vehicle_id);
        const tz = zones.get(car.site_id) || "UTC";
        let marker = markers.get(car.vehicle_id);
        if (!marker) {
          marker = L.marker([car.lat, car.lon], { title: car.plate }).addTo(map).bindPopup("");
          markers.set(car.vehicle_id, marker);
        }
        marker.setLatLng([car.lat, car.lon]);
        marker.setIcon(carIcon(car, spread.get(car.vehicle_id)));
        marker.setPopupContent(popup(car, tz));
        const el = marker.getElement();
        el.dataset.vehicle = car.vehicle_id;
        el.dataset.state = car.state;
        el.dataset.lat = car.lat;
        el.dataset.lon = car.lon;
      });
      markers.forEach(function (marker, id) {
        if (!ids.has(id)) { marker.remove(); markers.delete(id); }
      });
      list(cars);
    }

    function list(cars) {
      const body = document.querySelector("#fleet-map-list tbody");
      if (!cars.length) { body.innerHTML = '<tr><td colspan="6" class="muted">No shared car.</td></tr>'; return; }
      body.innerHTML = cars.map(function (car) {
        const tz = zones.get(car.site_id) || "UTC";
        const next = car.next_booking_id ? "#" + car.next_booking_id + " " + when(car.next_booking_starts_at, tz) : "–";
        return '<tr data-vehicle="' + car.vehicle_id + '" data-state="' + text(car.state) + '">' +
          '<td><span class="swatch car-' + text(car.state) + '"></span><code>' + text(car.plate) + "</code> " + text(car.model) + "</td>" +
          '<td class="state">' + text(car.state.replace("_", " ")) + "</td>" +
          '<td class="num level">' + text(level(car)) + "</td>" +
          '<td class="num range">' + Math.round(car.range_km) + " km</td>" +
          '<td class="next">' + text(next) + "</td>" +
          '<td class="seen">' + text(seen(car, tz)) + "</td></tr>";
      }).join("");
    }

    async function refresh() {
      const r = await fetch(section.dataset.positions, { headers: { Accept: "application/json" } });
      if (r.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
      if (!r.ok) return;
      draw(await r.json());
      const updated = document.getElementById("fleet-map-updated");
      updated.textContent = "updated " + new Date().toLocaleTimeString("en-GB");
      section.dataset.refreshed = String(Number(section.dataset.refreshed || 0) + 1);
    }

    document.getElementById("fleet-map-list").addEventListener("click", function (e) {
      const row = e.target.closest("tr[data-vehicle]");
      const marker = row && markers.get(Number(row.dataset.vehicle));
      if (marker) marker.openPopup();
    });
    document.getElementById("fleet-map-refresh").addEventListener("click", refresh);
    refresh();
    setInterval(function () { if (!document.hidden) refresh(); }, 1000 * Number(section.dataset.refreshS || 30));
  }

  document.addEventListener("DOMContentLoaded", function () {
    const section = document.getElementById("fleet-map-section");
    if (section && window.L && document.getElementById("fleet-map")) start(section);
  });
})();
