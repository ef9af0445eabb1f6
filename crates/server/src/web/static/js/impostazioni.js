// /impostazioni: the business's details and booking rules (GET/PUT /api/business).
'use strict';
(() => {
  const { api, h, fill, fail, message } = Fx;
  const FIELDS = [
    ['name', 'Nome dell\'attività', 'text'], ['address', 'Indirizzo', 'text'], ['phone', 'Telefono dell\'attività', 'tel'],
    ['timezone', 'Fuso orario', 'text'],
  ];
  const RULES = [
    ['buffer_min', 'Pausa tra un appuntamento e l\'altro (minuti)'], ['min_notice_min', 'Preavviso minimo per prenotare (minuti)'],
    ['horizon_days', 'Prenotabile fino a (giorni)'], ['slot_step_min', 'Passo degli orari proposti (minuti)'],
  ];
  let rules = {};
  const field = (id, label, el) => [h('label', { for: id }, label), el];
  async function load() {
    try {
      const b = await api('GET', '/api/business');
      rules = b.rules || {};
      fill('settings',
        FIELDS.map(([k, label, type]) => field('s-' + k, label, h('input', { id: 's-' + k, name: k, type, value: b[k] == null ? '' : b[k] }))),
        h('h2', {}, 'Regole di prenotazione'),
        RULES.map(([k, label]) => field('r-' + k, label, h('input', { id: 'r-' + k, name: 'rule-' + k, type: 'number', min: '0', value: rules[k] == null ? '' : rules[k] }))),
        field('r-holidays', 'Chiuso nei giorni festivi', h('input', { id: 'r-holidays', name: 'rule-closed_on_public_holidays', type: 'checkbox', checked: !!rules.closed_on_public_holidays })),
        h('p', { class: 'hint' }, 'Numeri collegati: ' + ((b.numbers || []).map((n) => n.kind + ' ' + n.value).join(', ') || 'nessuno')));
    } catch (e) { fill('settings', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  document.getElementById('settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const out = { rules: { ...rules } };
    for (const [k] of FIELDS) out[k] = f.elements[k].value.trim();
    for (const [k] of RULES) if (f.elements['rule-' + k].value !== '') out.rules[k] = Number(f.elements['rule-' + k].value);
    out.rules.closed_on_public_holidays = f.elements['rule-closed_on_public_holidays'].checked;
    try { await api('PUT', '/api/business', out); message('Impostazioni salvate.'); } catch (e) { fail(e); }
  });
  load();
})();
