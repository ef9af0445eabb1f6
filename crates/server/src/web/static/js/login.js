// /login: posts the credentials to /api/login, then goes to the page asked for.
'use strict';
document.getElementById('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  try {
    await Fx.api('POST', '/api/login', { username: form.username.value.trim(), password: form.password.value });
    location.href = form.dataset.next || '/';
  } catch (e) {
    Fx.message(e.status === 401 ? 'Nome utente o password non corretti.' : e.message, true);
    form.password.value = '';
    form.password.focus();
  }
});
