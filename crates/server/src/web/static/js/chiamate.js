// /chiamate: the day's calls and chats with outcome and transcript.
'use strict';
(() => {
  const { api, h, fill, items, table, dateTimeIt } = Fx;
  const dateInput = document.getElementById('date');
  const secs = (c) => (c.duration_s != null ? c.duration_s + ' s' : (c.duration_ms != null ? Math.round(c.duration_ms / 1000) + ' s' : ''));
  function transcript(c) {
    const box = document.getElementById('transcript');
    box.hidden = false;
    const turns = Array.isArray(c.transcript) ? c.transcript : (Array.isArray(c.turns) ? c.turns : []);
    fill('transcript-body',
      h('p', {}, (c.caller || c.phone || 'sconosciuto') + ' · ' + dateTimeIt(c.started_at) + ' · ' + (c.outcome || '')),
      turns.length ? turns.map((t) => h('div', { class: 'turn ' + (t.role === 'caller' || t.speaker === 'caller' ? 'caller' : 'agent') },
        h('div', { class: 'meta' }, (t.role === 'caller' || t.speaker === 'caller' ? 'Cliente' : 'Receptionist') + (t.layer ? ' · ' + t.layer : '') + (t.latency_ms != null ? ' · ' + t.latency_ms + ' ms' : '')),
        h('div', {}, t.text || t.reply || ''))) : h('p', { class: 'muted' }, 'Nessuna trascrizione.'),
      c.recording_url ? h('audio', { controls: true, src: c.recording_url, 'aria-label': 'Registrazione' }) : null);
    box.scrollIntoView();
  }
  async function load() {
    try {
      const list = items(await api('GET', '/api/calls?date=' + dateInput.value), 'calls');
      fill('calls', table([
        { label: 'Inizio', cell: (c) => dateTimeIt(c.started_at) },
        { label: 'Chiamante', cell: (c) => c.caller || c.phone || 'sconosciuto' },
        { label: 'Canale', cell: (c) => c.provider || '' },
        { label: 'Durata', cell: secs },
        { label: 'Esito', cell: (c) => c.outcome || 'in corso' },
        { label: 'Turni', cell: (c) => (Array.isArray(c.turns) ? c.turns.length : String(c.turns ?? '')) },
        { label: '', cell: (c) => h('button', { type: 'button', class: 'secondary', onclick: () => transcript(c) }, 'Trascrizione') },
      ], list, 'Nessuna chiamata in questo giorno.'));
    } catch (e) { fill('calls', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  document.getElementById('date-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    history.replaceState(null, '', '?data=' + dateInput.value);
    load();
  });
  load();
})();
