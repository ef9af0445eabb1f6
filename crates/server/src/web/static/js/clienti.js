// /clienti: search, edit, CSV import and export; for the owner, one
// client's data as JSON and their erasure (GDPR).
'use strict';
(() => {
  const { h, api, fill, dateTimeIt } = Fx;
  const q = document.getElementById('q');
  const owner = document.body.dataset.role === 'owner';

  // The owner's GDPR box under a client's form: what is stored, export, erase.
  function privacy(c) {
    const summary = h('p', { class: 'muted' }, 'Caricamento dei dati…');
    api('GET', '/api/clients/' + c.id + '/export').then((d) => {
      const n = (k) => (Array.isArray(d[k]) ? d[k].length : 0);
      const next = (d.appointments || []).filter((a) => a.status === 'booked').map((a) => a.service + ' ' + dateTimeIt(a.start_utc));
      fill(summary,
        'Appuntamenti: ' + n('appointments') + ' · chiamate: ' + n('calls') + ' · messaggi in chat: ' + n('chat_history')
        + ' · richieste: ' + n('callbacks') + ' · lista d\'attesa: ' + n('waitlist') + '. Consensi: marketing '
        + (d.consents && d.consents.marketing ? 'sì' : 'no') + ', registrazione ' + (d.consents && d.consents.recording ? 'sì' : 'no') + '.',
        next.length ? h('br') : null, next.length ? 'Prossimi: ' + next.join(', ') : null);
    }).catch((e) => fill(summary, 'Non disponibile: ' + e.message));
    return h('section', { class: 'card', 'aria-labelledby': 'h-gdpr' },
      h('h2', { id: 'h-gdpr' }, 'Dati personali (GDPR)'),
      summary,
      h('p', {}, 'Il cliente può chiedere una copia dei suoi dati o la loro cancellazione.'),
      h('div', { class: 'buttons' },
        h('a', { class: 'button secondary', id: 'gdpr-export', href: '/api/clients/' + c.id + '/export', download: 'cliente-' + c.id + '.json' },
          'Esporta dati (JSON)')));
  }

  const crud = Fx.crud({
    url: '/api/clients', key: 'clients', empty: 'Nessun cliente trovato.',
    query: () => (q.value.trim() ? '?q=' + encodeURIComponent(q.value.trim()) : ''),
    fields: [
      { name: 'name', label: 'Nome', required: true },
      { name: 'phone', label: 'Telefono', type: 'tel' },
      { name: 'email', label: 'E-mail', type: 'email' },
      { name: 'consent_marketing', label: 'Consenso marketing', type: 'checkbox' },
      { name: 'consent_recording', label: 'Consenso alla registrazione delle chiamate', type: 'checkbox' },
    ],
    canDelete: owner,
    deleteLabel: 'Cancella cliente e dati',
    confirmDelete: (c) => 'Cancellare definitivamente ' + c.name + ' (' + (c.phone || '') + ') e tutti i suoi dati?\n\n'
      + 'Gli appuntamenti restano nelle statistiche senza nome né numero (quelli futuri vengono annullati); '
      + 'conversazioni, chiamate, registrazioni, richieste di richiamata, lista d\'attesa e messaggi WhatsApp vengono eliminati.\n\n'
      + 'L\'operazione non si può annullare.',
    deleted: (r) => 'Cliente cancellato: ' + ((r && r.appointments_anonymised) || 0) + ' appuntamenti resi anonimi, '
      + ((r && r.calls) || 0) + ' chiamate e ' + ((r && r.chat_turns) || 0) + ' messaggi eliminati.',
    extra: owner ? privacy : null,
    columns: [
      { label: 'Nome', cell: (c) => c.name },
      { label: 'Telefono', cell: (c) => c.phone || '' },
      { label: 'E-mail', cell: (c) => c.email || '' },
      { label: 'Punti', cell: (c) => String(c.loyalty_points || 0) },
    ],
  });
  document.getElementById('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); crud.load(); });
  Fx.csvImport('csv-file', '/api/clients/import', 'clienti', () => crud.load());

  // The owner's loyalty rule (GET/PUT /api/loyalty).
  const loyalty = document.getElementById('loyalty-form');
  if (loyalty) {
    const NUMBERS = ['points_per_visit', 'points_per_euro', 'reward_threshold'];
    Fx.api('GET', '/api/loyalty').then((r) => {
      for (const k of NUMBERS) loyalty.elements[k].value = String(r[k] || 0);
      loyalty.elements.reward_text.value = r.reward_text || '';
    }).catch(Fx.fail);
    loyalty.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const out = { reward_text: loyalty.elements.reward_text.value.trim() };
      for (const k of NUMBERS) out[k] = Number(loyalty.elements[k].value || 0);
      try {
        await Fx.api('PUT', '/api/loyalty', out);
        Fx.message('Programma fedeltà salvato.');
      } catch (e) { Fx.fail(e); }
    });
  }
})();
