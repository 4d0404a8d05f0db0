import { tenantPath } from '../api.js';
import { h, notice } from '../dom.js';
import { plural } from '../format.js';
import { sentence } from './login.js';

/**
 * "Export evidence bundle": POST /api/tenants/:tenant/evidence answers the signed bundle
 * `phi-audit evidence` writes (the events with their inclusion proofs and checkpoint), which is
 * saved byte for byte as a file, so that `phi-audit verify-evidence` checks exactly what the
 * server sent. The export is recorded in the ledger by the server before it answers.
 */

/** Same key as api.ts: the CSRF token of this tab, sent on every unsafe request. */
const CSRF_KEY = 'phi-audit.csrf';

async function fetchBundle(tenant: string, eventIds: readonly string[]): Promise<{ blob: Blob; name: string }> {
  const csrf = sessionStorage.getItem(CSRF_KEY);
  const response = await fetch(tenantPath(tenant, '/evidence'), {
    method: 'POST',
    credentials: 'same-origin',
    cache: 'no-store',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(csrf === null ? {} : { 'x-csrf-token': csrf }),
    },
    body: JSON.stringify({ eventIds }),
  });
  if (!response.ok) {
    let message = `the server answered ${response.status}`;
    try {
      const body = (await response.json()) as { error?: { message?: unknown } };
      if (typeof body.error?.message === 'string') message = body.error.message;
    } catch {
      // Not JSON: keep the status.
    }
    throw new Error(response.status === 409 ? `${message}. Try again in a few seconds` : message);
  }
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([\w.-]+)"/.exec(disposition)?.[1] ?? 'phi-audit-evidence.json';
  return { blob: await response.blob(), name };
}

/** A button that downloads the evidence bundle of `eventIds`, with its progress and errors. */
export function evidenceExportButton(tenant: string, eventIds: readonly string[]): HTMLElement {
  const button = h('button', { type: 'button', class: 'export-evidence' }, 'Export evidence bundle');
  const status = h('span', { class: 'form-status' });
  button.addEventListener('click', () => {
    button.disabled = true;
    status.replaceChildren(notice('info', `Preparing the signed bundle of ${plural(eventIds.length, 'event')}…`));
    fetchBundle(tenant, eventIds)
      .then(({ blob, name }) => {
        const url = URL.createObjectURL(blob);
        // Set as a property: an object URL this page just made, not data (dom.ts refuses blob: in attributes).
        const link = h('a', { download: name });
        link.href = url;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        status.replaceChildren(
          notice(
            'ok',
            `Saved ${name}. Check it with: phi-audit verify-evidence ${name} --key <the published verifier key>`,
          ),
        );
      })
      .catch((error: unknown) => {
        status.replaceChildren(
          notice('error', error instanceof Error ? sentence(error.message) : 'The bundle could not be made.'),
        );
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return h(
    'div',
    { class: 'evidence-export' },
    button,
    h(
      'small',
      { class: 'muted' },
      ' The events with their ledger proofs and the signed checkpoint, for an investigation file.',
    ),
    status,
  );
}
