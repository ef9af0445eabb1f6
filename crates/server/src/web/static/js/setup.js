// /setup: the first-run wizard; creates the business and the owner's account.
'use strict';
document.getElementById('setup-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const hours = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, open: f.open.value, close: f.close.value, breaks: [] }));
  const body = {
    business: {
      name: f.name.value.trim(), vertical: f.vertical.value, address: f.address.value.trim(),
      phone: f.phone.value.trim(), timezone: f.timezone.value.trim(), hours,
    },
    owner: { username: f.username.value.trim(), password: f.password.value },
  };
  try {
    await Fx.api('POST', '/api/setup', body);
    Fx.message('Attività creata. Ora può accedere.');
    location.href = '/login';
  } catch (e) { Fx.fail(e); }
});
