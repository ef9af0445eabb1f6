// /orari: weekly opening hours (up to two ranges a day: the gap is the
// break) and closures.
'use strict';
(() => {
  const { api, h, fill, items, fail, message } = Fx;
  const DAYS = [['monday', 'lunedì'], ['tuesday', 'martedì'], ['wednesday', 'mercoledì'], ['thursday', 'giovedì'], ['friday', 'venerdì'], ['saturday', 'sabato'], ['sunday', 'domenica']];
  const t = (s) => (s ? String(s).slice(0, 5) : '');
  function row([key, label], hours) {
    const ranges = hours.filter((x) => x.weekday === key).map((x) => x.range).sort((a, b) => (a.start < b.start ? -1 : 1));
    const input = (n, k, v) => [h('label', { for: key + n + k }, (n === 0 ? 'Mattina ' : 'Pomeriggio ') + (k === 'start' ? 'dalle' : 'alle')),
      h('input', { id: key + n + k, type: 'time', value: t(v) })];
    return h('fieldset', {}, h('legend', {}, label),
      input(0, 'start', ranges[0] && ranges[0].start), input(0, 'end', ranges[0] && ranges[0].end),
      input(1, 'start', ranges[1] && ranges[1].start), input(1, 'end', ranges[1] && ranges[1].end));
  }
  async function load() {
    try {
      const hours = items(await api('GET', '/api/hours'), 'hours');
      fill('hours', DAYS.map((d) => row(d, hours)), h('p', { class: 'hint' }, 'Lasci vuoto un giorno di chiusura; il secondo orario serve per la pausa (es. 9–13 e 14–19).'));
    } catch (e) { fill('hours', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  document.getElementById('hours-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = (id) => (document.getElementById(id) || {}).value || '';
    const out = [];
    for (const [key] of DAYS) for (const n of [0, 1]) {
      const start = v(key + n + 'start');
      const end = v(key + n + 'end');
      if (start && end) out.push({ weekday: key, range: { start: start + ':00', end: end + ':00' } });
    }
    try { await api('PUT', '/api/hours', { hours: out }); message('Orari salvati.'); load(); } catch (e) { fail(e); }
  });
  load();
  Fx.crud({
    url: '/api/closures', key: 'closures', empty: 'Nessuna chiusura.', canEdit: false,
    fields: [
      { name: 'from', label: 'Dal', type: 'date', required: true },
      { name: 'to', label: 'Al', type: 'date', required: true },
      { name: 'reason', label: 'Motivo' },
    ],
    columns: [{ label: 'Dal', cell: (c) => Fx.dateIt(c.from) }, { label: 'Al', cell: (c) => Fx.dateIt(c.to) }, { label: 'Motivo', cell: (c) => c.reason || '' }],
  });
})();
