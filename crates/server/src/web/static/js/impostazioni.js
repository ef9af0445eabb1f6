// /impostazioni: the business's details and booking rules (GET/PUT /api/business)
// and the receptionist's greeting, transfer number, recording, reminder lead and who is told of
// callback requests (GET/PUT /api/receptionist).
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
  // record_calls: null follows the server's RECORD_CALLS.
  const RECORDING = [['', 'Come configurato sul server'], ['true', 'Sì, con avviso al chiamante'], ['false', 'No']];
  function receptionist(r) {
    const choice = r.record_calls == null ? '' : String(r.record_calls);
    return [
      h('h2', {}, 'Receptionist'),
      field('p-greeting', 'Saluto per chi chiama la prima volta', h('textarea', { id: 'p-greeting', name: 'greeting', maxlength: '300', rows: '2', placeholder: r.default_greeting || '' }, r.greeting || '')),
      h('p', { class: 'hint' }, 'Vuoto: «' + (r.default_greeting || '') + '». I clienti già noti sono salutati per nome.'),
      field('p-transfer', 'Numero a cui passare chi chiede di parlare con una persona', h('input', { id: 'p-transfer', name: 'transfer_number', type: 'tel', value: r.transfer_number || '', placeholder: '+39 …' })),
      h('p', { class: 'hint' }, 'Vuoto: il numero configurato sul server; senza numero si registra una richiesta di richiamata.'),
      field('p-record', 'Registrare le chiamate', h('select', { id: 'p-record', name: 'record_calls' },
        RECORDING.map(([v, label]) => h('option', { value: v, selected: v === choice }, label)))),
      field('p-reminder', 'Promemoria ai clienti (ore prima dell\'appuntamento)', h('input', { id: 'p-reminder', name: 'reminder_hours', type: 'number', min: '0', max: '168', value: r.reminder_hours == null ? '' : r.reminder_hours })),
      h('p', { class: 'hint' }, 'Vuoto: come configurato sul server (di solito 24 ore). 0: nessun promemoria.'),
      h('h2', {}, 'Avvisi delle richieste di richiamata'),
      field('p-notify-email', 'E-mail a cui inviarli', h('input', { id: 'p-notify-email', name: 'notify_email', type: 'email', value: r.notify_email || '' })),
      field('p-notify-phone', 'Cellulare a cui inviarli (WhatsApp o SMS)', h('input', { id: 'p-notify-phone', name: 'notify_phone', type: 'tel', value: r.notify_phone || '', placeholder: '+39 …' })),
      h('p', { class: 'hint' }, 'Vuoti: i destinatari configurati sul server.'),
    ];
  }
  async function load() {
    try {
      const [b, r] = await Promise.all([api('GET', '/api/business'), api('GET', '/api/receptionist')]);
      rules = b.rules || {};
      fill('settings',
        FIELDS.map(([k, label, type]) => field('s-' + k, label, h('input', { id: 's-' + k, name: k, type, value: b[k] == null ? '' : b[k] }))),
        h('h2', {}, 'Regole di prenotazione'),
        RULES.map(([k, label]) => field('r-' + k, label, h('input', { id: 'r-' + k, name: 'rule-' + k, type: 'number', min: '0', value: rules[k] == null ? '' : rules[k] }))),
        field('r-holidays', 'Chiuso nei giorni festivi', h('input', { id: 'r-holidays', name: 'rule-closed_on_public_holidays', type: 'checkbox', checked: !!rules.closed_on_public_holidays })),
        h('p', { class: 'hint' }, 'Numeri collegati: ' + ((b.numbers || []).map((n) => n.kind + ' ' + n.value).join(', ') || 'nessuno')),
        receptionist(r));
    } catch (e) { fill('settings', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  document.getElementById('settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const out = { rules: { ...rules } };
    for (const [k] of FIELDS) out[k] = f.elements[k].value.trim();
    for (const [k] of RULES) if (f.elements['rule-' + k].value !== '') out.rules[k] = Number(f.elements['rule-' + k].value);
    out.rules.closed_on_public_holidays = f.elements['rule-closed_on_public_holidays'].checked;
    const rec = f.elements.record_calls.value;
    const text = (k) => f.elements[k].value.trim() || null;
    const hours = f.elements.reminder_hours.value;
    const desk = {
      greeting: text('greeting'), transfer_number: text('transfer_number'), record_calls: rec === '' ? null : rec === 'true',
      reminder_hours: hours === '' ? null : Number(hours), notify_email: text('notify_email'), notify_phone: text('notify_phone'),
    };
    try {
      await api('PUT', '/api/business', out);
      await api('PUT', '/api/receptionist', desk);
      message('Impostazioni salvate.');
    } catch (e) { fail(e); }
  });
  load();
})();

// Integrations (GET/PUT /api/integrations): phone provider, WhatsApp, e-mail, language model.
// Secrets are write-only: the API only says whether each is set; the password inputs start empty
// every time, an empty one keeps the stored value, and "Cancella" removes it.
(() => {
  const { api, h, fill, fail, message } = Fx;
  // [section, title, fields]; a field is [name, label, kind, options]; kind 'secret' is write-only.
  const SECTIONS = [
    ['phone', 'Telefonia', [
      ['provider', 'Fornitore', 'select', [['', 'Come configurato sul server'], ['twilio', 'Twilio'], ['plivo', 'Plivo'], ['exotel', 'Exotel'], ['sip', 'SIP']]],
      ['account_id', 'Account (Account SID, Auth ID o utente SIP)', 'text'],
      ['auth_token', 'Auth token / segreto di firma', 'secret', 'phone_auth_token'],
    ]],
    ['whatsapp', 'WhatsApp (Cloud API di Meta)', [
      ['phone_number_id', 'ID del numero di telefono', 'text'],
      ['access_token', 'Token di accesso', 'secret', 'whatsapp_access_token'],
      ['app_secret', 'App secret', 'secret', 'whatsapp_app_secret'],
      ['verify_token', 'Token di verifica del webhook', 'secret', 'whatsapp_verify_token'],
    ]],
    ['email', 'E-mail (SMTP)', [
      ['host', 'Server SMTP', 'text'], ['port', 'Porta', 'number'], ['user', 'Utente', 'text'],
      ['password', 'Password', 'secret', 'email_password'], ['from', 'Mittente', 'email'],
    ]],
    ['llm', 'Modello linguistico', [
      ['provider', 'Fornitore', 'select', [['', 'Come configurato sul server'], ['groq', 'Groq'], ['openai', 'OpenAI']]],
      ['model', 'Modello (vuoto: quello predefinito)', 'text'],
      ['api_key', 'Chiave API', 'secret', 'llm_api_key'],
    ]],
  ];
  const id = (s, f) => 'i-' + s + '-' + f;
  function input(section, [name, label, kind, extra], values) {
    const key = id(section, name);
    const v = values[name];
    const error = h('p', { class: 'error', id: key + '-error' });
    if (kind === 'secret') {
      const set = !!(v && v.set);
      return [
        h('label', { for: key }, label, ' ', h('span', { class: 'badge ' + (set ? 'ok' : 'warn'), id: key + '-state' }, set ? 'impostato' : 'non impostato')),
        h('input', { id: key, name: section + '.' + name, type: 'password', autocomplete: 'new-password', value: '', placeholder: set ? 'lasciare vuoto per non cambiarlo' : '' }),
        set ? h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'clear', value: extra }), ' Cancella il valore salvato') : null,
        error,
      ];
    }
    if (kind === 'select') {
      const current = v == null ? '' : String(v);
      return [h('label', { for: key }, label),
        h('select', { id: key, name: section + '.' + name }, extra.map(([val, text]) => h('option', { value: val, selected: val === current }, text))), error];
    }
    return [h('label', { for: key }, label), h('input', { id: key, name: section + '.' + name, type: kind, value: v == null ? '' : v }), error];
  }
  function render(data) {
    fill('integrations', SECTIONS.map(([section, title, fields]) =>
      h('fieldset', {}, h('legend', {}, title), fields.map((f) => input(section, f, data[section] || {})))));
  }
  async function load() {
    try { render(await api('GET', '/api/integrations')); } catch (e) { fill('integrations', h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }
  const form = document.getElementById('integrations-form');
  if (!form) return;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { clear: [] };
    for (const [section, , fields] of SECTIONS) {
      body[section] = {};
      for (const [name, , kind] of fields) {
        const el = form.elements[section + '.' + name];
        if (!el) continue;
        const v = el.value.trim();
        if (kind === 'secret') { if (el.value !== '') body[section][name] = el.value; }
        else if (kind === 'number') body[section][name] = v === '' ? null : Number(v);
        else body[section][name] = v === '' ? null : v;
      }
    }
    for (const box of form.querySelectorAll('input[name="clear"]:checked')) body.clear.push(box.value);
    for (const p of form.querySelectorAll('p.error')) p.textContent = '';
    try {
      render(await api('PUT', '/api/integrations', body));
      message('Integrazioni salvate.');
    } catch (e) {
      for (const [field, text] of Object.entries(e.fields || {})) {
        const p = document.getElementById('i-' + field.replace('.', '-') + '-error');
        if (p) p.textContent = text;
      }
      fail(e);
    }
  });
  load();
})();
