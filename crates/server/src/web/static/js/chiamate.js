// /chiamate: the day's calls and chat sessions; each opens its transcript
// at /chiamate/<session>.
'use strict';
(() => {
  const { api, h, fill, items, table, dateTimeIt, channel, outcome, duration } = Fx;
  const dateInput = document.getElementById('date');
  const who = (c) => c.client_name ? c.client_name + (c.caller ? ' · ' + c.caller : '') : (c.caller || 'sconosciuto');
  const link = (c) => '/chiamate/' + encodeURIComponent(c.session_id);
  async function load() {
    try {
      const list = items(await api('GET', '/api/conversations?date=' + dateInput.value), 'conversations');
      fill('calls', table([
        { label: 'Inizio', cell: (c) => dateTimeIt(c.started_at) },
        { label: 'Chiamante', cell: who },
        { label: 'Canale', cell: (c) => channel(c.channel) },
        { label: 'Durata', cell: (c) => duration(c.duration_ms) },
        { label: 'Esito', cell: (c) => (c.channel === 'voice' ? (c.ended_at ? outcome(c.outcome) : 'in corso') : '') },
        { label: 'Turni', cell: (c) => String(c.turns ?? '') },
        { label: 'Registrazione', cell: (c) => (c.recording_url ? 'sì' : '') },
        { label: '', cell: (c) => h('a', { class: 'button secondary transcript-link', href: link(c), dataset: { session: c.session_id } }, 'Trascrizione') },
      ], list, 'Nessuna chiamata o chat in questo giorno.'));
    } catch (e) { fill('calls', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  document.getElementById('date-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    history.replaceState(null, '', '?data=' + dateInput.value);
    load();
  });
  load();
})();
