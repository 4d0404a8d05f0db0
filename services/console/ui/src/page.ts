import type { Me, Role } from './session.js';

/**
 * What every page of the console gets and provides. A page is one module in views/ exporting a
 * Page; router.ts lists them.
 */

export interface PageContext {
  readonly me: Me;
  /** The tenant (practice) in view; '' when an admin has not chosen one yet. */
  readonly tenant: string;
  /** Values of the route's `:name` parts, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The part of the hash after `?` (filters, paging), so back and reload keep them. */
  readonly query: URLSearchParams;
  /** Goes to a hash route, e.g. navigate('/alerts', { status: 'open' }). */
  navigate(path: string, query?: Record<string, string | undefined>): void;
}

export interface Page {
  /** Shown in the browser tab and as the page heading. */
  readonly title: string;
  /** Who may open it; the nav hides it from other roles (the API still enforces). */
  readonly allowed: (role: Role) => boolean;
  /** Builds the page into `root` (a fresh, empty element; discarded if the user navigates away). */
  render(root: HTMLElement, ctx: PageContext): Promise<void> | void;
}
