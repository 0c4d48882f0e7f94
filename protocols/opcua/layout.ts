/**
 * Subscription layout: which monitored items go into which subscription. Items with the same
 * monitoring parameters are created together (one request); no subscription holds more than the
 * server allows. Pure, so `plan()` can show it without connecting.
 */

/** What a monitored item needs to be placed. */
export interface ItemSpec {
  /** Point id. */
  id: string;
  /** NodeId, as text. */
  nodeId: string;
  /** Items with equal keys share monitoring parameters (sampling, queue, filter). */
  paramsKey: string;
}

/** Items with one parameter set, created by one request. */
export interface ItemGroup<T extends ItemSpec = ItemSpec> {
  paramsKey: string;
  items: T[];
}

/** One subscription and the groups of items it holds. */
export interface SubscriptionLayout<T extends ItemSpec = ItemSpec> {
  groups: ItemGroup<T>[];
  size: number;
}

/**
 * Spreads `items` over as few subscriptions as `maxPerSubscription` allows (≥ 1), keeping items
 * with one parameter set together in order. Deterministic: the same input gives the same layout.
 */
export function layoutSubscriptions<T extends ItemSpec>(
  items: readonly T[],
  maxPerSubscription: number,
): SubscriptionLayout<T>[] {
  const max = Math.max(1, Math.floor(maxPerSubscription));
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const list = byKey.get(item.paramsKey);
    if (list) list.push(item);
    else byKey.set(item.paramsKey, [item]);
  }
  const subs: SubscriptionLayout<T>[] = [];
  let current: SubscriptionLayout<T> | undefined;
  for (const [paramsKey, list] of byKey) {
    let i = 0;
    while (i < list.length) {
      if (!current || current.size >= max) {
        current = { groups: [], size: 0 };
        subs.push(current);
      }
      const take = Math.min(max - current.size, list.length - i);
      current.groups.push({ paramsKey, items: list.slice(i, i + take) });
      current.size += take;
      i += take;
    }
  }
  return subs;
}

/** Limits a server states in its ServerCapabilities (absent or 0: none stated). */
export interface ServerLimits {
  itemsPerSubscription?: number | undefined;
  subscriptionsPerSession?: number | undefined;
}

/**
 * Items per subscription: the configured number, lowered to the server's per-subscription maximum,
 * and raised (never past that maximum) when `itemCount` items would otherwise need more
 * subscriptions than the server allows one session.
 */
export function effectiveLimit(configured: number, server: ServerLimits, itemCount = 0): number {
  const itemsMax =
    server.itemsPerSubscription && server.itemsPerSubscription > 0 ? server.itemsPerSubscription : undefined;
  let limit = itemsMax ? Math.min(configured, itemsMax) : configured;
  const subsMax = server.subscriptionsPerSession;
  if (subsMax && subsMax > 0 && Math.ceil(itemCount / limit) > subsMax) {
    const needed = Math.ceil(itemCount / subsMax);
    limit = itemsMax ? Math.min(needed, itemsMax) : needed;
  }
  return limit;
}
