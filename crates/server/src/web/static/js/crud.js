// A small list + edit form over one API resource, shared by the pages that
// manage a list (servizi, operatori, FAQ, clienti, chiusure).
//   Fx.crud({ mount, url, key, idOf, fields: [{ name, label, type, options, list, help }],
//             columns: [{ label, cell }], query, prepare(fields), canCreate, canEdit, canDelete, extra(row),
//             deleteLabel, confirmDelete(row), deleted(answer) })
// A field's valueFrom(row) reads its value when the row names it differently (not `valueOf`:
// every object has one, Object.prototype's).
// Field types: text, textarea, number, euro (stored as cents), checkbox,
// list (comma-separated ↔ array), select, date, time, email, tel.
'use strict';
Fx.crud = (cfg) => {
  const { api, h, fill, items, table, fail, message } = Fx;
  const mount = document.getElementById(cfg.mount || 'crud');
  let rows = [];

  function input(f, value) {
    const id = 'f-' + f.name;
    const common = { id, name: f.name, required: f.required };
    let el;
    if (f.type === 'textarea') el = h('textarea', common, value || '');
    else if (f.type === 'checkbox') el = h('input', { ...common, type: 'checkbox', checked: !!value });
    else if (f.type === 'select') el = h('select', common, (f.options || []).map(([v, l]) => h('option', { value: v, selected: String(value) === String(v) }, l)));
    else if (f.type === 'multi') el = h('select', { ...common, multiple: true, size: 4 }, (f.options || []).map(([v, l]) => h('option', { value: v, selected: (value || []).map(String).includes(String(v)) }, l)));
    else if (f.type === 'euro') el = h('input', { ...common, type: 'number', step: '0.01', min: '0', value: value == null ? '' : (value / 100).toFixed(2) });
    else if (f.type === 'list') el = h('input', { ...common, value: (value || []).join(', ') });
    else el = h('input', { ...common, type: f.type || 'text', value: value == null ? '' : value });
    return [h('label', { for: id }, f.label), el, f.help ? h('small', { class: 'hint' }, f.help) : null];
  }

  function read(form) {
    const out = {};
    for (const f of cfg.fields) {
      const el = form.elements[f.name];
      if (!el) continue;
      if (f.type === 'checkbox') out[f.name] = el.checked;
      else if (f.type === 'number') out[f.name] = el.value === '' ? null : Number(el.value);
      else if (f.type === 'euro') out[f.name] = el.value === '' ? null : Math.round(Number(el.value) * 100);
      else if (f.type === 'list') out[f.name] = el.value.split(',').map((s) => s.trim()).filter(Boolean);
      else if (f.type === 'multi') out[f.name] = [...el.selectedOptions].map((o) => Number(o.value));
      else out[f.name] = el.value.trim();
    }
    return out;
  }

  function edit(row) {
    const title = row ? 'Modifica' : 'Aggiungi';
    const form = h('form', { class: 'stack card', 'aria-label': title },
      h('h2', {}, title),
      cfg.fields.map((f) => input(f, row ? (f.valueFrom ? f.valueFrom(row) : row[f.name]) : f.default)),
      h('div', { class: 'buttons' },
        h('button', { type: 'submit' }, 'Salva'),
        row && cfg.canDelete !== false ? h('button', { type: 'button', class: 'danger', onclick: () => remove(row) }, cfg.deleteLabel || 'Elimina') : null,
        h('button', { type: 'button', class: 'secondary', onclick: show }, 'Annulla')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        if (row) await api('PUT', cfg.url + '/' + row.id, read(form));
        else await api('POST', cfg.url, read(form));
        message('Salvato.');
        await load();
      } catch (e) { fail(e); }
    });
    fill(mount, form, cfg.extra && row ? cfg.extra(row) : null);
    const first = form.querySelector('input, textarea, select');
    if (first) first.focus();
  }

  async function remove(row) {
    if (!confirm(cfg.confirmDelete ? cfg.confirmDelete(row) : 'Eliminare definitivamente?')) return;
    try {
      const answer = await api('DELETE', cfg.url + '/' + row.id);
      message(cfg.deleted ? cfg.deleted(answer) : 'Eliminato.');
      await load();
    } catch (e) { fail(e); }
  }

  function show() {
    const action = cfg.canEdit === false
      ? (r) => h('button', { type: 'button', class: 'secondary', onclick: () => remove(r) }, 'Elimina')
      : (r) => h('button', { type: 'button', class: 'secondary', onclick: () => edit(r) }, 'Modifica');
    const cols = [...cfg.columns, { label: '', cell: action }];
    fill(mount,
      cfg.canCreate === false ? null : h('div', { class: 'toolbar' }, h('button', { type: 'button', onclick: () => edit(null) }, 'Aggiungi')),
      table(cols, rows, cfg.empty || 'Nessun elemento.'));
  }

  async function load() {
    try {
      const q = cfg.query ? cfg.query() : '';
      rows = items(await api('GET', cfg.url + q), cfg.key);
      show();
    } catch (e) { fill(mount, h('p', { class: 'muted' }, 'Non disponibile: ' + e.message)); }
  }

  (cfg.prepare ? cfg.prepare(cfg.fields).catch(fail) : Promise.resolve()).then(load);
  return { load };
};
