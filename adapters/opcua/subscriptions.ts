/**
 * The adapter's subscriptions: creating one with its items' results checked, and the watchdog
 * step that marks a silent subscription's points stale and recreates it. node-opcua specifics stay
 * behind the client seam; the adapter supplies what belongs to the device (emit, stale, re-read).
 */
import type { DataValue } from "node-opcua";
import type { SubscriptionLayout } from "../../protocols/opcua/layout.js";
import type { AdapterContext, Counter, PointConfig, Sample } from "../../src/sdk/index.js";
import type { MonitorParams, OpcuaConnection, SubscriptionHandle } from "./client.js";
import type { OpcuaPointFields, OpcuaSettings } from "./config.js";

/** A monitored item to be: one subscribed point. */
export interface Item {
  id: string;
  /** The node id this connection monitors: the point's address with its namespace resolved. */
  nodeId: string;
  paramsKey: string;
  params: MonitorParams;
}

/** A subscription of this connection, and what its watchdog knows of it. */
export interface LiveSubscription {
  layout: SubscriptionLayout<Item>;
  handle: SubscriptionHandle;
  /** The connection generation it belongs to; data of an older one is ignored. */
  generation: number;
  /** ctx.clock time of the last publish response (data or keep-alive). */
  lastActivity: number;
  /** Its points were marked stale and not refreshed since. */
  stale: boolean;
  /** Why it ended without close(), if it did. */
  ended?: string;
  /** Ids of its points the server accepted as monitored items. */
  accepted: string[];
}

/** What a subscription needs of its adapter instance. */
export interface SubscriptionDeps {
  ctx: AdapterContext<OpcuaSettings, OpcuaPointFields>;
  publishingIntervalMs: number;
  /** Whether subscriptions of connection generation `gen` may still report (running, not superseded). */
  current(gen: number): boolean;
  /** Whether the session is up (stale marks mean nothing while it is not). */
  connected(): boolean;
  /** The sample of a changed value of point `id`; undefined for an unknown point. */
  sample(id: string, dv: DataValue): Sample | undefined;
  /** Reads points once and emits them, for points whose values did not change while stale. */
  refresh(ids: readonly string[], gen: number): void;
  /** Counts subscriptions recreated by the watchdog. */
  recreated: Counter;
}

/** Whether a status code name is of Good severity. */
const isGoodName = (name: string): boolean => name.startsWith("Good");

/** The monitoring parameters of a point. */
export function monitorParams(
  point: PointConfig<OpcuaPointFields>,
  publishingIntervalMs: number,
): MonitorParams {
  const params: MonitorParams = {
    samplingIntervalMs: point.samplingIntervalMs ?? publishingIntervalMs,
    queueSize: point.queueSize ?? 1,
    discardOldest: point.discardOldest ?? true,
  };
  if (point.serverDeadband) params.deadband = { ...point.serverDeadband };
  return params;
}

/**
 * How long a subscription may stay silent before its points are stale: one keep-alive period
 * (revised publishing interval × revised max keep-alive count) plus half of one, at least one
 * publishing interval of slack for the network and the server's scheduling.
 */
export const staleWindowMs = (keepAliveMs: number, publishingIntervalMs: number): number =>
  keepAliveMs + Math.max(publishingIntervalMs, keepAliveMs / 2);

/** Creates one subscription of `layout`; every item the server refuses is emitted bad with its status. */
export async function openSubscription(
  deps: SubscriptionDeps,
  c: OpcuaConnection,
  layout: SubscriptionLayout<Item>,
  gen: number,
): Promise<LiveSubscription> {
  const { ctx } = deps;
  const live: LiveSubscription = {
    layout,
    handle: undefined as unknown as SubscriptionHandle,
    generation: gen,
    lastActivity: ctx.clock.now(),
    stale: false,
    accepted: [],
  };
  const current = () => deps.current(live.generation);
  const alive = () => {
    live.lastActivity = ctx.clock.now();
    if (!live.stale || !current()) return;
    live.stale = false;
    ctx.log.info("subscription publishing again");
    deps.refresh(live.accepted, gen);
  };
  live.handle = await c.subscribe(
    {
      publishingIntervalMs: deps.publishingIntervalMs,
      maxNotificationsPerPublish: ctx.settings.maxNotificationsPerPublish ?? 0,
      groups: layout.groups.map((g) => ({
        params: g.items[0]!.params,
        nodeIds: g.items.map((i) => i.nodeId),
      })),
    },
    {
      data: (g, i, dv) => {
        if (!current()) return;
        const sample = deps.sample(layout.groups[g]?.items[i]?.id ?? "", dv);
        if (sample) ctx.emit([sample]);
        alive();
      },
      alive: () => {
        if (current()) alive();
      },
      ended: (reason) => {
        if (!current()) return;
        live.ended = reason;
        ctx.log.warn({ reason }, "subscription ended: its points are stale until it is created again");
        live.stale = true;
        if (deps.connected()) ctx.markStale(live.accepted);
      },
    },
  );
  const refused: Sample[] = [];
  for (const [g, group] of layout.groups.entries())
    for (const [i, item] of group.items.entries()) {
      const status = live.handle.results[g]?.[i] ?? "Good";
      if (isGoodName(status)) live.accepted.push(item.id);
      else refused.push({ point: item.id, value: null, quality: "bad", status });
    }
  if (refused.length > 0) {
    ctx.log.warn(
      { points: refused.map((r) => `${r.point}: ${r.status}`) },
      "monitored items refused by the server",
    );
    if (current()) ctx.emit(refused);
  }
  return live;
}

/**
 * One watchdog step for `sub`, silent since `since` (its last activity or the last reconnect):
 * past the keep-alive window its points are marked stale; silent for watchdogFactor keep-alive
 * periods, or ended, it is deleted and created again. Returns the subscription to keep.
 */
export async function watchSubscription(
  deps: SubscriptionDeps,
  c: OpcuaConnection,
  sub: LiveSubscription,
  since: number,
): Promise<LiveSubscription> {
  const { ctx } = deps;
  const keepAlive = Math.max(sub.handle.keepAliveMs(), deps.publishingIntervalMs);
  const silent = ctx.clock.now() - Math.max(sub.lastActivity, since);
  if (!sub.stale && silent > staleWindowMs(keepAlive, sub.handle.publishingIntervalMs())) {
    sub.stale = true;
    ctx.log.warn({ silentMs: silent, items: sub.layout.size }, "subscription silent: points stale");
    ctx.markStale(sub.accepted);
  }
  if (!sub.ended && silent <= (ctx.settings.watchdogFactor ?? 3) * keepAlive) return sub;
  ctx.log.warn({ items: sub.layout.size, reason: sub.ended ?? "silent" }, "recreating a subscription");
  await sub.handle.close();
  try {
    const next = await openSubscription(deps, c, sub.layout, sub.generation);
    deps.recreated.inc();
    return next;
  } catch (err) {
    // Tried again after another silent period, not at every tick.
    sub.lastActivity = ctx.clock.now();
    sub.ended = undefined;
    ctx.log.warn({ err }, "recreating a subscription failed; retrying later");
    return sub;
  }
}
