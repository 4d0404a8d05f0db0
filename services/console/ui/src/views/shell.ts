import { h } from '../dom.js';
import { TIME_ZONE } from '../format.js';
import { match, ROUTES } from '../router.js';
import { ROLE_LABELS, type Me } from '../session.js';

export interface ShellHandlers {
  onTenant(tenant: string): void;
  onLogout(): void;
}

/** The tenant picker: a list for several tenants, a text box for an admin who sees all ("*"). */
function tenantPicker(me: Me, tenant: string, onTenant: (t: string) => void): HTMLElement {
  if (me.tenants.includes('*')) {
    const input = h('input', { name: 'tenant', value: tenant, placeholder: 'practice id', size: 14 });
    const form = h(
      'form',
      { class: 'tenant-picker' },
      h('label', {}, 'Practice ', input),
      h('button', { type: 'submit' }, 'Show'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      onTenant(input.value.trim());
    });
    return form;
  }
  if (me.tenants.length <= 1) return h('span', { class: 'tenant-picker' }, 'Practice: ', h('strong', {}, tenant));
  const picker = h('select', { name: 'tenant' });
  for (const t of me.tenants) {
    const option = h('option', { value: t }, t);
    option.selected = t === tenant;
    picker.append(option);
  }
  picker.addEventListener('change', () => onTenant(picker.value));
  return h('label', { class: 'tenant-picker' }, 'Practice ', picker);
}

/**
 * The frame around every page: navigation for the role, tenant picker, user and logout. Returns
 * the element pages render into and `markCurrent` (call it after each navigation).
 */
export function renderShell(
  app: HTMLElement,
  me: Me,
  tenant: string,
  handlers: ShellHandlers,
): { outlet: HTMLElement; markCurrent: () => void } {
  const nav = h('nav', { 'aria-label': 'Main' });
  const links = ROUTES.filter((r) => r.nav !== undefined && r.page.allowed(me.role)).map((r) => {
    const link = h('a', { href: `#/${r.path}`, 'data-path': r.path }, r.nav ?? r.path);
    nav.append(link);
    return link;
  });
  const markCurrent = () => {
    const current = match(location.hash)?.route.path.split('/')[0];
    for (const link of links) {
      if (link.dataset.path === current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  };
  markCurrent();
  const logout = h('button', { type: 'button', class: 'logout' }, 'Log out');
  logout.addEventListener('click', () => handlers.onLogout());
  const outlet = h('main', { id: 'page' });
  app.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/' }, 'phi-audit'),
      nav,
      h(
        'div',
        { class: 'who' },
        tenantPicker(me, tenant, (t) => handlers.onTenant(t)),
        h('span', { class: 'user' }, me.username, ' · ', h('span', { class: 'role' }, ROLE_LABELS[me.role])),
        logout,
      ),
    ),
    outlet,
    h('footer', {}, `Times are shown in your computer's time zone (${TIME_ZONE}).`),
  );
  return { outlet, markCurrent };
}
