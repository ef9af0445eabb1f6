// /clienti: search, edit, CSV import and export.
'use strict';
(() => {
  const q = document.getElementById('q');
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
    canDelete: false,
    columns: [
      { label: 'Nome', cell: (c) => c.name },
      { label: 'Telefono', cell: (c) => c.phone || '' },
      { label: 'E-mail', cell: (c) => c.email || '' },
      { label: 'Punti', cell: (c) => String(c.loyalty_points || 0) },
    ],
  });
  document.getElementById('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); crud.load(); });
  document.getElementById('csv-file').addEventListener('change', async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    try {
      const r = await Fx.api('POST', '/api/clients/import', await file.text(), 'text/csv');
      Fx.message('Importazione completata' + (r && r.imported != null ? ': ' + r.imported + ' clienti.' : '.'));
      crud.load();
    } catch (e) { Fx.fail(e); }
    ev.target.value = '';
  });
})();
