// /calendario: FullCalendar day/week/list views of the appointments, per
// operator (filter), with create / move / cancel through the API and live
// updates from the server-sent events of /api/events.
'use strict';
(() => {
  const { api, h, items, hhmm, ymd, localIso, channel, CHANNELS, fail, message } = Fx;
  const body = document.body;
  const filter = document.getElementById('operator-filter');
  const dialog = document.getElementById('appointment-dialog');
  const form = document.getElementById('appointment-form');
  const errorBox = document.getElementById('appointment-error');
  const live = document.getElementById('live');
  let operators = [];
  let services = [];
  let editing = null; // the appointment open in the dialog, null when creating
  const COLORS = ['#1f5fbf', '#1c7c3c', '#a15c00', '#7a2fb5', '#b42318', '#00707a', '#5d6575'];

  const operatorOf = (a) => operators.find((o) => String(o.id) === String(a.operator_id) || o.name === a.operator);
  const colorOf = (a) => { const i = operators.indexOf(operatorOf(a)); return COLORS[(i < 0 ? 0 : i) % COLORS.length]; };
  const clientName = (a) => (a.client && a.client.name) || a.client_name || 'Cliente senza nome';

  async function loadEvents(info) {
    const last = new Date(info.end.getTime() - 86400000);
    let url = '/api/appointments?from=' + ymd(info.start) + '&to=' + ymd(last);
    if (filter.value) url += '&operator=' + encodeURIComponent(filter.value);
    const data = await api('GET', url);
    return items(data, 'appointments')
      .filter((a) => a.status !== 'cancelled')
      .filter((a) => !filter.value || !operatorOf(a) || String(operatorOf(a).id) === filter.value)
      .map((a) => ({
        id: String(a.id), start: a.start, end: a.end,
        title: clientName(a) + ' · ' + (a.service || ''),
        backgroundColor: colorOf(a), borderColor: colorOf(a),
        classNames: ['appointment', 'ch-' + (a.channel || 'staff')],
        extendedProps: { a },
      }));
  }

  function eventContent(arg) {
    const a = arg.event.extendedProps.a;
    return { domNodes: [h('div', { class: 'ev-line', dataset: { id: a.id } },
      h('strong', {}, hhmm(a.start) + ' ' + clientName(a)), ' ',
      h('span', {}, (a.service || '') + (a.operator ? ' · ' + a.operator : '')), ' ',
      channel(a.channel))] };
  }

  const cal = new FullCalendar.Calendar(document.getElementById('calendar'), {
    locale: 'it',
    initialDate: body.dataset.date,
    initialView: window.innerWidth < 760 ? 'timeGridDay' : 'timeGridWeek',
    headerToolbar: { left: 'prev,next today', center: 'title', right: 'timeGridDay,timeGridWeek,listWeek' },
    buttonText: { today: 'oggi', day: 'Giorno', week: 'Settimana', list: 'Elenco' },
    now: body.dataset.today + 'T12:00:00',
    slotMinTime: '07:00:00', slotMaxTime: '21:00:00', allDaySlot: false, height: 'auto',
    editable: true, selectable: true, eventDurationEditable: false,
    events: (info, ok, ko) => loadEvents(info).then(ok, (e) => { fail(e); ko(e); }),
    eventContent,
    eventClick: (info) => openDialog(info.event.extendedProps.a),
    select: (info) => openDialog(null, info.start),
    eventDrop: async (info) => {
      const a = info.event.extendedProps.a;
      try {
        await api('PATCH', '/api/appointments/' + a.id, { start: localIso(info.event.start).slice(0, 16) });
        message('Appuntamento spostato.');
        cal.refetchEvents();
      } catch (e) { info.revert(); fail(e); }
    },
    datesSet: (info) => {
      const url = new URL(location.href);
      url.searchParams.set('data', ymd(info.view.currentStart));
      history.replaceState(null, '', url);
    },
  });

  function options(select, list, blank) {
    select.replaceChildren(...(blank ? [h('option', { value: '' }, blank)] : []),
      ...list.map((x) => h('option', { value: String(x.id) }, x.name)));
  }

  function openDialog(a, start) {
    editing = a;
    errorBox.textContent = '';
    document.getElementById('dialog-title').textContent = a ? 'Appuntamento' : 'Nuovo appuntamento';
    document.getElementById('cancel-appointment').hidden = !a || a.status !== 'booked';
    document.getElementById('complete-appointment').hidden = !a || a.status !== 'booked';
    const receipt = document.getElementById('receipt-link');
    receipt.hidden = !a;
    if (a) receipt.href = '/api/appointments/' + a.id + '/receipt.pdf';
    const when = a ? new Date(a.start) : (start || new Date(body.dataset.date + 'T09:00:00'));
    form.day.value = ymd(when);
    form.time.value = Fx.pad(when.getHours()) + ':' + Fx.pad(when.getMinutes());
    form.client_name.value = a ? clientName(a) : '';
    form.phone.value = a && a.client && a.client.phone ? a.client.phone : '';
    form.client_name.disabled = form.phone.disabled = form.service_id.disabled = !!a;
    const svc = a && services.find((s) => s.name === a.service || String(s.id) === String(a.service_id));
    if (svc) form.service_id.value = String(svc.id);
    const op = a && operatorOf(a);
    form.operator_id.value = op ? String(op.id) : '';
    document.getElementById('appointment-info').textContent = a
      ? 'Canale: ' + (CHANNELS[a.channel] || a.channel || 'manuale') + ' · stato: ' + (a.status || '')
      : '';
    dialog.showModal();
    (a ? form.day : form.client_name).focus();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const start = form.day.value + 'T' + form.time.value.slice(0, 5);
    const operatorId = form.operator_id.value ? Number(form.operator_id.value) : null;
    try {
      if (editing) {
        await api('PATCH', '/api/appointments/' + editing.id, { start, operator_id: operatorId });
        message('Appuntamento spostato.');
      } else {
        await api('POST', '/api/appointments', {
          service_id: Number(form.service_id.value), operator_id: operatorId, start,
          client: { name: form.client_name.value.trim(), phone: form.phone.value.trim() },
        });
        message('Appuntamento creato.');
      }
      dialog.close();
      cal.refetchEvents();
    } catch (e) { errorBox.textContent = e.message; }
  });

  document.getElementById('cancel-appointment').addEventListener('click', async () => {
    if (!editing || !confirm('Annullare questo appuntamento?')) return;
    try {
      await api('DELETE', '/api/appointments/' + editing.id);
      dialog.close();
      message('Appuntamento annullato.');
      cal.refetchEvents();
    } catch (e) { errorBox.textContent = e.message; }
  });
  document.getElementById('complete-appointment').addEventListener('click', async () => {
    if (!editing) return;
    try {
      const r = await api('POST', '/api/appointments/' + editing.id + '/complete');
      dialog.close();
      const l = r.loyalty || {};
      message('Appuntamento completato.' + (l.earned ? ' Punti fedeltà: +' + l.earned + ' (totale ' + l.points + ').' : '')
        + (l.reward ? ' Il cliente ha raggiunto il premio.' : '') + (r.receipt && r.receipt.emailed ? ' Ricevuta inviata per e-mail.' : ''));
      cal.refetchEvents();
    } catch (e) { errorBox.textContent = e.message; }
  });
  document.getElementById('close-dialog').addEventListener('click', () => dialog.close());
  document.getElementById('new-appointment').addEventListener('click', () => openDialog(null));
  filter.addEventListener('change', () => cal.refetchEvents());

  function listen() {
    if (!window.EventSource) return;
    const es = new EventSource('/api/events');
    es.onopen = () => { live.dataset.state = 'on'; live.textContent = 'Aggiornamento automatico attivo'; };
    es.onerror = () => { live.dataset.state = 'off'; live.textContent = 'Aggiornamento automatico: riconnessione…'; };
    es.addEventListener('appointment', () => cal.refetchEvents());
  }

  (async () => {
    try {
      const [ops, svcs] = await Promise.all([api('GET', '/api/operators'), api('GET', '/api/services')]);
      operators = items(ops, 'operators');
      services = items(svcs, 'services');
      options(filter, operators, 'Tutti gli operatori');
      options(form.operator_id, operators, 'Il primo libero');
      options(form.service_id, services);
    } catch (e) { fail(e); }
    cal.render();
    listen();
  })();
})();
