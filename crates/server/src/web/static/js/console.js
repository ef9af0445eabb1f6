// Fluxion console: helpers shared by every page (no framework, no build).
// Fx.api talks to the JSON API with the session cookie and the CSRF token
// of <meta name="csrf-token">; Fx.h builds DOM nodes (text is never parsed
// as HTML).
'use strict';
const Fx = (() => {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  async function api(method, url, body, contentType) {
    const headers = { Accept: 'application/json' };
    let payload;
    if (body !== undefined) {
      if (typeof body === 'string') { headers['Content-Type'] = contentType || 'text/csv'; payload = body; }
      else { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    }
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf();
    const r = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
    if (r.status === 401 && !url.startsWith('/api/login')) {
      location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
      throw new Error('Sessione scaduta: effettui di nuovo l\'accesso.');
    }
    const type = r.headers.get('content-type') || '';
    const data = type.includes('json') ? await r.json().catch(() => null) : await r.text();
    if (!r.ok) {
      const e = new Error((data && data.error) || ('Errore ' + r.status));
      e.status = r.status;
      e.fields = (data && data.fields) || {};
      throw e;
    }
    return data;
  }

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, v);
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === undefined || kid === null || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
  }

  function fill(target, ...kids) {
    const el = typeof target === 'string' ? document.getElementById(target) : target;
    if (el) el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== undefined && k !== null));
    return el;
  }

  // A list out of an API answer: the array itself or its first array field.
  function items(data, key) {
    if (Array.isArray(data)) return data;
    if (data && key && Array.isArray(data[key])) return data[key];
    if (data && typeof data === 'object') for (const v of Object.values(data)) if (Array.isArray(v)) return v;
    return [];
  }

  const euro = (cents) => (Number(cents || 0) / 100).toLocaleString('it-IT', { style: 'currency', currency: 'EUR' });
  const pad = (n) => String(n).padStart(2, '0');
  // "2027-03-11T15:00:00" (local wall clock) → "15:00".
  const hhmm = (s) => (s && s.length >= 16 ? s.slice(11, 16) : (s || ''));
  const ymd = (d) => d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  const localIso = (d) => ymd(d) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':00';
  function dateIt(s) {
    if (!s) return '';
    const d = new Date(s.length === 10 ? s + 'T12:00:00' : s);
    return isNaN(d) ? s : d.toLocaleDateString('it-IT', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  }
  function dateTimeIt(s) {
    if (!s) return '';
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString('it-IT', { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  }
  const CHANNELS = { voice: 'telefono', phone: 'telefono', chat: 'web', web: 'web', whatsapp: 'WhatsApp', staff: 'manuale', manual: 'manuale' };
  const channel = (c) => h('span', { class: 'badge ch-' + (c || 'staff') }, CHANNELS[c] || c || 'manuale');
  // How a call ended (the API's `outcome`), in Italian.
  const OUTCOMES = {
    booked: 'prenotazione', rescheduled: 'appuntamento spostato', cancelled: 'appuntamento disdetto', answered_faq: 'informazioni',
    transferred: 'trasferita', abandoned: 'abbandonata', failed: 'non riuscita', completed: 'conclusa',
  };
  const outcome = (o) => (o ? OUTCOMES[o] || o : '');
  // Milliseconds as "1 min 05 s" / "42 s".
  function duration(ms) {
    if (ms == null) return '';
    const s = Math.round(ms / 1000);
    return s >= 60 ? Math.floor(s / 60) + ' min ' + pad(s % 60) + ' s' : s + ' s';
  }

  function message(text, isError) {
    const box = document.getElementById('messages');
    if (!box) return;
    const m = h('p', { class: 'msg' + (isError ? ' error' : ''), role: isError ? 'alert' : null }, text);
    box.append(m);
    setTimeout(() => m.remove(), isError ? 12000 : 5000);
  }
  const fail = (e) => message(e && e.message ? e.message : String(e), true);

  function table(columns, rows, empty) {
    if (!rows.length) return h('p', { class: 'muted' }, empty || 'Nessun elemento.');
    return h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', {}, c.cell(r))))))));
  }

  const today = () => document.body.dataset.today || ymd(new Date());

  document.addEventListener('DOMContentLoaded', () => {
    const toggle = document.querySelector('.menu-toggle');
    const nav = document.getElementById('nav');
    if (toggle && nav) toggle.addEventListener('click', () => {
      const open = nav.classList.toggle('open');
      toggle.setAttribute('aria-expanded', String(open));
    });
    const out = document.getElementById('logout');
    if (out) out.addEventListener('click', async () => {
      try { await api('POST', '/api/logout'); } catch (e) { /* the session is gone either way */ }
      location.href = '/login';
    });
  });

  // A file input that uploads the chosen CSV to `url` and reports how many
  // `noun` were imported (and which lines were skipped), then calls `after`.
  function csvImport(inputId, url, noun, after) {
    document.getElementById(inputId).addEventListener('change', async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      try {
        const r = await api('POST', url, await file.text(), 'text/csv');
        const skipped = (r && r.skipped) || [];
        message('Importazione completata' + (r && r.imported != null ? ': ' + r.imported + ' ' + noun + '.' : '.') +
          (skipped.length ? ' Righe saltate: ' + skipped.map((x) => x.line + ' (' + x.error + ')').join('; ') + '.' : ''));
        if (after) after();
      } catch (e) { fail(e); }
      ev.target.value = '';
    });
  }

  return { api, h, fill, items, euro, csvImport, hhmm, ymd, localIso, dateIt, dateTimeIt, channel, CHANNELS, outcome, duration, message, fail, table, today, pad };
})();
