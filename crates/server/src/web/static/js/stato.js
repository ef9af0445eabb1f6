// /stato: the checks of `fluxion doctor`, live (GET /api/status), refreshed every 30 s.
'use strict';
(() => {
  const { api, h, fill, items, table } = Fx;
  const STATES = { ok: ['ok', 'funziona'], FAIL: ['bad', 'guasto'], skip: ['warn', 'non configurato'], info: ['', 'informazione'] };
  const state = (c) => STATES[c.status] || (c.ok ? STATES.ok : STATES.FAIL);
  async function load() {
    try {
      const s = await api('GET', '/api/status');
      fill('status',
        h('p', {}, s.failed ? s.failed + ' controlli non superati.' : 'Tutti i controlli superati.'),
        table([
          { label: 'Componente', cell: (c) => c.name },
          { label: 'Stato', cell: (c) => h('span', { class: 'badge ' + state(c)[0] }, state(c)[1]) },
          { label: 'Dettagli', cell: (c) => c.detail || '' },
        ], items(s, 'components'), 'Nessun componente.'),
        h('p', { class: 'muted' }, 'Aggiornato alle ' + new Date().toLocaleTimeString('it-IT')));
    } catch (e) { fill('status', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  load();
  setInterval(load, 30000);
})();
