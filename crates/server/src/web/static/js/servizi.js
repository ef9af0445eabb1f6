// /servizi: the services (name, synonyms, duration, price, buffer, operators, article).
'use strict';
(async () => {
  let ops = [];
  try { ops = Fx.items(await Fx.api('GET', '/api/operators'), 'operators'); } catch (e) { Fx.fail(e); }
  const crud = Fx.crud({
    url: '/api/services', key: 'services', empty: 'Nessun servizio: ne aggiunga uno.',
    fields: [
      { name: 'name', label: 'Nome', required: true },
      { name: 'synonyms', label: 'Sinonimi', type: 'list', help: 'Altri modi in cui i clienti lo chiamano, separati da virgole.' },
      { name: 'duration_min', label: 'Durata (minuti)', type: 'number', required: true, default: 30 },
      { name: 'price_cents', label: 'Prezzo (€)', type: 'euro' },
      { name: 'buffer_min', label: 'Pausa dopo (minuti)', type: 'number', default: 0 },
      { name: 'operator_ids', label: 'Operatori che lo svolgono', type: 'multi', options: ops.map((o) => [o.id, o.name]),
        valueFrom: (s) => s.operator_ids || ops.filter((o) => (s.operators || []).includes(o.name)).map((o) => o.id) },
    ],
    columns: [
      { label: 'Servizio', cell: (s) => s.name },
      { label: 'Durata', cell: (s) => s.duration_min + ' min' },
      { label: 'Prezzo', cell: (s) => Fx.euro(s.price_cents) },
      { label: 'Operatori', cell: (s) => (s.operators || []).map((o) => (typeof o === 'string' ? o : o.name)).join(', ') },
    ],
  });
  Fx.csvImport('csv-file', '/api/services/import', 'servizi', () => crud.load());
})();
