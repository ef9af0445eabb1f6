// /stato: component health, refreshed every 15 s.
'use strict';
(() => {
  const { api, h, fill, items, table, dateTimeIt } = Fx;
  async function load() {
    try {
      const s = await api('GET', '/api/status');
      const ok = (c) => c.ok === true || ['ok', 'healthy'].includes(c.status);
      fill('status',
        table([
          { label: 'Componente', cell: (c) => c.name },
          { label: 'Stato', cell: (c) => h('span', { class: 'badge ' + (ok(c) ? 'ok' : 'bad') }, ok(c) ? 'funziona' : 'guasto') },
          { label: 'Dettagli', cell: (c) => c.detail || c.message || '' },
        ], items(s, 'components'), 'Nessun componente.'),
        h('p', {}, 'Ultimo backup: ' + (s.last_backup ? dateTimeIt(s.last_backup) : 'mai')),
        h('p', {}, 'Notifiche non inviate: ' + (s.failed_notifications || 0)),
        h('p', { class: 'muted' }, 'Aggiornato alle ' + new Date().toLocaleTimeString('it-IT')));
    } catch (e) { fill('status', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  load();
  setInterval(load, 15000);
})();
