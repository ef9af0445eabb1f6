// /faq: the questions the receptionist answers (several wordings each).
'use strict';
Fx.crud({
  url: '/api/faq', key: 'faq', empty: 'Nessuna domanda.',
  fields: [
    { name: 'category', label: 'Categoria', default: 'generale' },
    { name: 'questions', label: 'Domande (modi diversi di chiedere, separati da virgole)', type: 'list', required: true },
    { name: 'answer', label: 'Risposta', type: 'textarea', required: true },
  ],
  columns: [{ label: 'Domanda', cell: (f) => (f.questions || []).join(' / ') }, { label: 'Risposta', cell: (f) => f.answer }],
});
