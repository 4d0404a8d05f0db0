import { ApiError } from '../api.js';
import { h, notice } from '../dom.js';
import { login, type Me } from '../session.js';

/** Capitalised API message, e.g. "Too many failed logins; try again in 30 s". */
export function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * The login form. `message` explains why it is shown (session ended, logged out). Throttling and
 * lockout answers (429) are shown with the wait the server asks for.
 */
export function renderLogin(app: HTMLElement, onLoggedIn: (me: Me) => void, message?: string): void {
  document.title = 'Log in · phi-audit';
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    maxlength: 1024,
  });
  const status = h('div', { class: 'login-status' }, message ? notice('info', message) : null);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    { class: 'login', 'aria-label': 'Log in' },
    h('h1', {}, 'phi-audit console'),
    h('p', { class: 'muted' }, 'Review who looked at patient records, and record your decisions.'),
    status,
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Username'), username),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Password'), password),
    submit,
    h(
      'p',
      { class: 'muted login-help' },
      'No account yet? Your administrator creates one with ',
      h('code', {}, 'phi-audit users create'),
      ' (the very first account must be an admin; see the README).',
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.replaceChildren(notice('info', 'Checking…'));
    login(username.value, password.value)
      .then(onLoggedIn)
      .catch((error: unknown) => {
        const text =
          error instanceof ApiError
            ? error.status === 429
              ? `${sentence(error.message)}. This protects the account from password guessing.`
              : sentence(error.message)
            : 'Login failed.';
        status.replaceChildren(notice('error', text));
        password.value = '';
        password.focus();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  app.replaceChildren(h('main', { class: 'login-page' }, form));
  username.focus();
}
