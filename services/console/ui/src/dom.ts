/**
 * Building the page safely. Everything the API returns is PHI and untrusted (user ids, roles,
 * departments and names come from ingested events), so data only ever reaches the page as text
 * nodes: there is no innerHTML anywhere in the UI, and attributes that could run code
 * (`on…`, `style`, `srcdoc`) or navigate to a script URL are refused here.
 */

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

const FORBIDDEN_ATTR = /^(on|style$|srcdoc$)/i;
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction']);

/** True for a same-origin path, a hash route or a data: image; never `javascript:` or another host. */
function isSafeUrl(value: string): boolean {
  return /^(#|\/(?!\/)|\.\/|data:image\/)/.test(value);
}

/** An element with attributes and children; strings become text nodes, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (FORBIDDEN_ATTR.test(name)) throw new Error(`attribute ${name} is not allowed`);
    const text = value === true ? '' : String(value);
    if (URL_ATTRS.has(name.toLowerCase()) && !isSafeUrl(text)) throw new Error(`unsafe URL in ${name}`);
    el.setAttribute(name, text);
  }
  append(el, ...children);
  return el;
}

/** Appends children (strings as text nodes). */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? text(String(child)) : child);
  }
}

export function text(value: string): Text {
  return document.createTextNode(value);
}

/** Replaces every child of `el` with `children` (strings as text nodes; null and false skipped). */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** Removes every child of `el`. */
export function clear(el: Element): void {
  el.replaceChildren();
}

/** A table with a header row and one row per item; cells are built by `cells`. */
export function table<T>(
  headers: readonly string[],
  items: readonly T[],
  cells: (item: T) => Child[],
): HTMLTableElement {
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, ...headers.map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, ...items.map((item) => h('tr', {}, ...cells(item).map((c) => h('td', {}, c))))),
  );
}

/** A labelled form field (label wraps the control, so clicking the label focuses it). */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'label' }, label),
    control,
    hint ? h('small', {}, hint) : null,
  );
}

/** A <select> with [value, label] options and one selected value. */
export function select(
  name: string,
  options: readonly (readonly [string, string])[],
  selected = '',
  attrs: Attrs = {},
): HTMLSelectElement {
  const el = h('select', { name, ...attrs });
  for (const [value, label] of options) {
    const option = h('option', { value }, label);
    option.selected = value === selected;
    el.append(option);
  }
  return el;
}

/** A message box: `error` for failures, `info` for empty states and hints, `ok` for success. */
export function notice(kind: 'error' | 'info' | 'ok', ...children: Child[]): HTMLElement {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}
