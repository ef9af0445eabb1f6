// /operatori: the operators and their absences.
'use strict';
(() => {
  const { api, h, fill, items, table, fail, message } = Fx;
  async function absences(o) {
    const box = document.getElementById('absences');
    box.hidden = false;
    const form = h('form', { class: 'stack' },
      h('label', { for: 'abs-from' }, 'Dal'), h('input', { id: 'abs-from', name: 'from', type: 'date', required: true }),
      h('label', { for: 'abs-to' }, 'Al'), h('input', { id: 'abs-to', name: 'to', type: 'date', required: true }),
      h('label', { for: 'abs-reason' }, 'Motivo'), h('input', { id: 'abs-reason', name: 'reason' }),
      h('button', { type: 'submit' }, 'Aggiungi assenza'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', '/api/operators/' + o.id + '/absences', { from: form.from.value, to: form.to.value, reason: form.reason.value.trim() });
        message('Assenza registrata.');
        absences(o);
      } catch (e) { fail(e); }
    });
    let list = [];
    try { list = items(await api('GET', '/api/operators/' + o.id + '/absences'), 'absences'); } catch (e) { fail(e); }
    fill('absences-body', h('h3', {}, o.name),
      table([{ label: 'Dal', cell: (a) => a.from || a.start }, { label: 'Al', cell: (a) => a.to || a.end }, { label: 'Motivo', cell: (a) => a.reason || '' }], list, 'Nessuna assenza.'),
      form);
  }
  Fx.crud({
    url: '/api/operators', key: 'operators', empty: 'Nessun operatore.',
    fields: [{ name: 'name', label: 'Nome', required: true }, { name: 'service_ids', label: 'Servizi che svolge', type: 'multi', options: [] }],
    prepare: async (f) => {
      const s = items(await api('GET', '/api/services'), 'services');
      f.find((x) => x.name === 'service_ids').options = s.map((x) => [x.id, x.name]);
    },
    columns: [
      { label: 'Nome', cell: (o) => o.name },
      { label: 'Assenze', cell: (o) => h('button', { type: 'button', class: 'secondary', onclick: () => absences(o) }, 'Assenze') },
    ],
  });
})();
