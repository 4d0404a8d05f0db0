import { ApiError, onLoginNeeded } from './api.js';
import { h, notice } from './dom.js';
import { renderRoute } from './router.js';
import { chooseTenant, currentTenant, loadSession, logout, type Me } from './session.js';
import { renderLogin, sentence } from './views/login.js';
import { renderShell } from './views/shell.js';

/**
 * Entry point of the console UI (index.html loads it as a module): shows the login view or the
 * app for the current session, and re-renders the page on every hash change.
 */

const app = document.getElementById('app') ?? document.body;
let stopRouting: (() => void) | undefined;

function showLogin(message?: string): void {
  stopRouting?.();
  stopRouting = undefined;
  renderLogin(app, showApp, message);
}

/** A failure no page caught: shown in the page area, never a blank screen. */
function pageError(outlet: HTMLElement, error: unknown): void {
  const message = error instanceof ApiError ? sentence(error.message) : 'Something went wrong showing this page.';
  outlet.replaceChildren(h('section', { class: 'page' }, notice('error', message)));
}

function showApp(me: Me): void {
  stopRouting?.();
  const tenant = currentTenant(me);
  const { outlet, markCurrent } = renderShell(app, me, tenant, {
    onTenant: (t) => {
      chooseTenant(t);
      showApp(me);
    },
    onLogout: () => {
      logout()
        .catch(() => undefined)
        .finally(() => showLogin('You have logged out.'));
    },
  });
  const render = () => {
    markCurrent();
    renderRoute(outlet, me, currentTenant(me)).catch((error: unknown) => pageError(outlet, error));
  };
  window.addEventListener('hashchange', render);
  stopRouting = () => window.removeEventListener('hashchange', render);
  render();
}

onLoginNeeded((message) => {
  if (stopRouting !== undefined) showLogin(message);
});

loadSession()
  .then((me) => (me === undefined ? showLogin() : showApp(me)))
  .catch(() => {
    app.replaceChildren(notice('error', 'The console server cannot be reached. Check that phi-audit is running.'));
  });
