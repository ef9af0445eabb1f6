// /statistiche: calls and bookings per day, share of bookings, turns per
// NLU layer, reply latency, busiest hours (Chart.js).
'use strict';
(() => {
  const { api, h, fill, items, table } = Fx;
  const from = document.getElementById('from');
  const to = document.getElementById('to');
  const end = new Date(Fx.today() + 'T12:00:00');
  to.value = Fx.ymd(end);
  from.value = Fx.ymd(new Date(end.getTime() - 29 * 86400000));
  const charts = {};
  const fmtMs = (x) => (x == null ? '—' : Math.round(x) + ' ms');
  function chart(id, type, labels, datasets) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(document.getElementById(id), { type, data: { labels, datasets }, options: { responsive: true, animation: false } });
  }
  const tile = (label, value) => h('div', { class: 'card' }, h('p', { class: 'muted' }, label), h('p', { class: 'big' }, value));
  async function load() {
    try {
      const s = await api('GET', '/api/stats?from=' + from.value + '&to=' + to.value);
      const booked = new Map((s.bookings_per_day || []).map(([d, n]) => [d, n]));
      const days = (s.calls_per_day || []).map(([date, calls]) => ({ date, calls, bookings: booked.get(date) || 0 }));
      for (const [date, n] of booked) if (!days.some((d) => d.date === date)) days.push({ date, calls: 0, bookings: n });
      days.sort((a, b) => (a.date < b.date ? -1 : 1));
      const pct = (x) => (x == null ? '—' : Math.round(x * 100) + '%');
      fill('summary',
        tile('Chiamate', String(s.calls ?? days.reduce((n, d) => n + (d.calls || 0), 0))),
        tile('Chiamate con prenotazione', String(s.calls_booked ?? 0)),
        tile('Quota di chiamate con prenotazione', pct(s.booking_rate)),
        tile('Latenza risposta p50 / p95', fmtMs((s.latency_ms || {}).p50) + ' / ' + fmtMs((s.latency_ms || {}).p95)));
      chart('chart-days', 'bar', days.map((d) => d.date), [
        { label: 'Chiamate', data: days.map((d) => d.calls || 0), backgroundColor: '#1f5fbf' },
        { label: 'Prenotazioni', data: days.map((d) => d.bookings || 0), backgroundColor: '#1c7c3c' }]);
      const layers = s.turns_per_layer || [];
      chart('chart-layers', 'doughnut', layers.map(([l]) => l), [{ data: layers.map(([, n]) => n), backgroundColor: ['#1f5fbf', '#1c7c3c', '#a15c00', '#7a2fb5', '#b42318'] }]);
      const hours = s.calls_per_hour_utc || [];
      chart('chart-hours', 'bar', hours.map(([hr]) => hr + ':00 UTC'), [{ label: 'Chiamate', data: hours.map(([, n]) => n), backgroundColor: '#a15c00' }]);
      fill('stats-table', table([{ label: 'Giorno', cell: (d) => Fx.dateIt(d.date) }, { label: 'Chiamate', cell: (d) => String(d.calls || 0) }, { label: 'Prenotazioni', cell: (d) => String(d.bookings || 0) }], days, ''));
    } catch (e) { fill('summary', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  document.getElementById('range-form').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  load();
})();
