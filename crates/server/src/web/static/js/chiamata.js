// /chiamate/<session>: one call or chat session, its transcript turn by
// turn (with the layer that answered and its latency) and the recording.
'use strict';
(() => {
  const { api, h, fill, dateTimeIt, channel, outcome, duration } = Fx;
  const session = decodeURIComponent(location.pathname.replace(/^\/chiamate\//, ''));
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value || '—')];
  function summary(c) {
    return h('dl', { class: 'details' },
      row('Inizio', dateTimeIt(c.started_at)),
      row('Canale', channel(c.channel)),
      row('Chiamante', c.caller),
      row('Cliente', c.client_name),
      row('Durata', duration(c.duration_ms)),
      c.channel === 'voice' ? row('Esito', c.ended_at ? outcome(c.outcome) : 'in corso') : null,
      row('Turni del cliente', String(c.turns ?? '')),
      c.recording_url
        ? row('Registrazione', [h('audio', { controls: true, preload: 'none', src: c.recording_url, 'aria-label': 'Registrazione della chiamata' }),
          h('a', { href: c.recording_url, download: 'chiamata.wav' }, 'Scarica')])
        : null);
  }
  function turn(t) {
    const caller = t.role === 'user';
    const meta = [caller ? 'Cliente' : 'Receptionist', dateTimeIt(t.at)];
    if (!caller && t.layer) meta.push('livello ' + t.layer);
    if (!caller && t.latency_ms != null) meta.push(Math.round(t.latency_ms) + ' ms');
    if (!caller && t.model) meta.push(t.model);
    if (caller && t.intent) meta.push('intento: ' + t.intent);
    return h('div', { class: 'turn ' + (caller ? 'caller' : 'agent'), dataset: { layer: t.layer || '', role: t.role } },
      h('div', { class: 'meta' }, meta.join(' · ')),
      h('div', { class: 'text' }, t.text));
  }
  async function load() {
    try {
      const d = await api('GET', '/api/conversations/' + encodeURIComponent(session));
      fill('summary', summary(d.conversation));
      fill('transcript', d.turns.length ? d.turns.map(turn) : h('p', { class: 'muted' }, 'Nessuna trascrizione.'));
      const day = (d.conversation.started_at || '').slice(0, 10);
      if (day) document.getElementById('back').href = '/chiamate?data=' + day;
    } catch (e) {
      const text = e.status === 404 ? 'Conversazione inesistente.' : 'Non disponibile: ' + e.message;
      fill('summary', h('p', { class: 'muted' }, text));
      fill('transcript');
    }
  }
  load();
})();
