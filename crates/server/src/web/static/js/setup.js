// /setup: the first-run wizard; creates the business (with the vertical's
// services, staff and FAQ templates, editable later) and the owner's
// account, who is then logged in.
'use strict';
document.getElementById('setup-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const days = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
  const hours = days.map((weekday) => ({ weekday, range: { start: f.open.value + ':00', end: f.close.value + ':00' } }));
  const body = {
    name: f.name.value.trim(), vertical: f.vertical.value, address: f.address.value.trim(),
    phone_numbers: f.phone.value.trim() ? [f.phone.value.trim()] : [], timezone: f.timezone.value.trim(),
    hours, faq_templates: true,
    owner: { username: f.username.value.trim(), password: f.password.value },
  };
  try {
    await Fx.api('POST', '/api/setup', body);
    Fx.message('Attività creata: apro la console…');
    // The full server takes over the port once the business exists.
    setTimeout(() => { location.href = '/'; }, 2500);
  } catch (e) { Fx.fail(e); }
});
