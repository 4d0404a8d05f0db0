import { MAX_REVIEW_ALERT_IDS, type Alert, type AlertReviewStore, type ReviewedAlert } from '@phi-audit/rules';

/**
 * Looks up a known set of the tenant's alerts (a case's alerts, a bulk decision's) with their
 * review status: one reviewList per MAX_REVIEW_ALERT_IDS distinct ids, instead of one or two
 * store reads per alert (each a round trip on ClickHouse).
 */

/**
 * The tenant's alerts with these ids and their review status, in the order of `ids` (a repeated
 * id is repeated). `all`: undefined as soon as any id is not an alert of the tenant (the routes
 * answer 404); `existing`: those that are not are left out.
 */
export async function reviewedAlerts(
  review: Pick<AlertReviewStore, 'reviewList'>,
  tenant: string,
  ids: readonly string[],
  mode: 'all' | 'existing',
): Promise<ReviewedAlert[] | undefined> {
  const distinct = [...new Set(ids)];
  const found = new Map<string, ReviewedAlert>();
  for (let i = 0; i < distinct.length; i += MAX_REVIEW_ALERT_IDS) {
    const batch = distinct.slice(i, i + MAX_REVIEW_ALERT_IDS);
    const { items } = await review.reviewList({ tenant, alertIds: batch, limit: batch.length });
    if (mode === 'all' && items.length !== batch.length) return undefined;
    for (const item of items) found.set(item.alert.alertId, item);
  }
  const mine = ids.flatMap((id) => {
    const item = found.get(id);
    return item !== undefined && item.alert.tenant === tenant ? [item] : [];
  });
  return mode === 'all' && mine.length !== ids.length ? undefined : mine;
}

/** reviewedAlerts without the status: the tenant's alerts with these ids, in order (same modes). */
export async function tenantAlerts(
  review: Pick<AlertReviewStore, 'reviewList'>,
  tenant: string,
  ids: readonly string[],
  mode: 'all' | 'existing',
): Promise<Alert[] | undefined> {
  return (await reviewedAlerts(review, tenant, ids, mode))?.map((r) => r.alert);
}
