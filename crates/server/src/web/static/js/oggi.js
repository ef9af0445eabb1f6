// / (Oggi): today's appointments per operator, calls, callbacks and
// waitlist to handle, alerts; each section loads on its own and the page
// refreshes itself on the server's events.
'use strict';
(() => {
  const { api, h, fill, items, hhmm, channel, table, dateTimeIt, fail } = Fx;
  const today = Fx.today();
  const unavailable = (e) => h('p', { class: 'muted' }, 'Non disponibile: ' + e.message);

  async function appointments() {
    try {
      const list = items(await api('GET', '/api/appointments?from=' + today + '&to=' + today), 'appointments')
        .filter((a) => a.status !== 'cancelled');
      const byOperator = new Map();
      for (const a of list) {
        const k = a.operator || 'Senza operatore';
        if (!byOperator.has(k)) byOperator.set(k, []);
        byOperator.get(k).push(a);
      }
      if (!list.length) return fill('appointments', h('p', { class: 'muted' }, 'Nessun appuntamento oggi.'));
      fill('appointments', [...byOperator.entries()].map(([op, as]) => h('div', { class: 'operator-day' },
        h('h3', {}, op + ' (' + as.length + ')'),
        h('ul', {}, as.sort((x, y) => (x.start < y.start ? -1 : 1)).map((a) => h('li', {},
          h('strong', {}, hhmm(a.start) + '–' + hhmm(a.end)), ' ',
          (a.client && a.client.name) || 'Cliente', ' · ', a.service || '', ' ', channel(a.channel)))))));
    } catch (e) { fill('appointments', unavailable(e)); }
  }

  async function calls() {
    try {
      const list = items(await api('GET', '/api/calls?date=' + today), 'calls');
      const open = list.filter((c) => !c.ended_at && !c.outcome);
      fill('calls',
        h('p', {}, 'In corso: ', h('strong', {}, String(open.length)), ' · oggi: ', h('strong', {}, String(list.length))),
        table([
          { label: 'Ora', cell: (c) => dateTimeIt(c.started_at || c.start).slice(-5) },
          { label: 'Chiamante', cell: (c) => c.caller || c.phone || 'sconosciuto' },
          { label: 'Esito', cell: (c) => c.outcome || 'in corso' },
        ], list.slice(0, 10), 'Nessuna chiamata oggi.'),
        h('p', {}, h('a', { href: '/chiamate' }, 'Tutte le chiamate')));
    } catch (e) { fill('calls', unavailable(e)); }
  }

  async function callbacks() {
    try {
      const list = items(await api('GET', '/api/callbacks'), 'callbacks').filter((c) => !c.done);
      fill('callbacks', table([
        { label: 'Quando', cell: (c) => dateTimeIt(c.created_at || c.requested_at) },
        { label: 'Chi', cell: (c) => c.phone || c.name || '' },
        { label: 'Motivo', cell: (c) => c.reason || c.note || '' },
        { label: '', cell: (c) => h('button', { type: 'button', class: 'secondary', onclick: async () => {
          try { await api('PATCH', '/api/callbacks/' + c.id, { done: true }); callbacks(); } catch (e) { fail(e); }
        } }, 'Fatto') },
      ], list, 'Nessuna richiamata da fare.'));
    } catch (e) { fill('callbacks', unavailable(e)); }
  }

  async function waitlist() {
    try {
      const list = items(await api('GET', '/api/waitlist'), 'waitlist');
      fill('waitlist', table([
        { label: 'Cliente', cell: (w) => w.name || w.phone || ('cliente ' + (w.client_id ?? '')) },
        { label: 'Preferenza', cell: (w) => (typeof w.preference === 'string' ? w.preference : JSON.stringify(w.preference || '')) },
        { label: 'Dal', cell: (w) => dateTimeIt(w.created_at) },
      ], list, 'Nessuno in lista d\'attesa.'));
    } catch (e) { fill('waitlist', unavailable(e)); }
  }

  const NOTICE = {
    booking_confirmed: 'Conferma', booking_changed: 'Spostamento', booking_cancelled: 'Disdetta', reminder: 'Promemoria',
    callback_requested: 'Richiamata', event: 'Webhook', loyalty_reward: 'Premio fedeltà', receipt: 'Ricevuta',
  };
  // The notifications given up, each with a button to send it again (owner).
  async function failedNotices() {
    const list = items(await api('GET', '/api/notifications?state=failed&limit=10'), 'notifications');
    return table([
      { label: 'Creata', cell: (n) => dateTimeIt(n.created_at) },
      { label: 'Tipo', cell: (n) => NOTICE[n.kind] || n.kind },
      { label: 'A', cell: (n) => n.channel + ' ' + n.recipient },
      { label: 'Errore', cell: (n) => n.last_error || '' },
      { label: '', cell: (n) => h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try { await api('POST', '/api/notifications/' + n.id + '/retry'); alerts(); } catch (e) { fail(e); }
      } }, 'Riprova') },
    ], list, '');
  }

  async function alerts() {
    try {
      const s = await api('GET', '/api/status');
      const bad = items(s, 'components').filter((c) => c.ok === false || (c.status && !['ok', 'healthy'].includes(c.status)));
      const out = bad.map((c) => h('li', {}, h('span', { class: 'badge bad' }, 'guasto'), ' ', c.name + ': ' + (c.detail || c.message || c.status || '')));
      const failed = Number(s.failed_notifications || 0);
      if (failed) out.push(h('li', {}, h('span', { class: 'badge warn' }, 'notifiche'), ' ' + failed + ' notifiche non inviate'));
      if (s.last_backup) out.push(h('li', {}, 'Ultimo backup: ' + dateTimeIt(s.last_backup)));
      fill('alerts', out.length ? h('ul', {}, out) : h('p', { class: 'badge ok' }, 'Tutto funziona.'), failed ? await failedNotices() : []);
    } catch (e) { fill('alerts', unavailable(e)); }
  }

  const all = () => { appointments(); calls(); callbacks(); waitlist(); alerts(); };
  all();
  if (window.EventSource) {
    const es = new EventSource('/api/events');
    es.addEventListener('appointment', appointments);
    es.addEventListener('call', calls);
    es.addEventListener('callback', callbacks);
  }
})();
