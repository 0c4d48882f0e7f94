/**
 * The OPC UA adapter: one session per device, monitored items for `subscribe` points (pushed with
 * ctx.emit), reads for `poll` points (scheduled by the core), writes, browse. node-opcua reconnects
 * by itself; its events become device state, and a watchdog recreates a subscription that went silent.
 */
import { mkdir } from "node:fs/promises";
import type { DataValue } from "node-opcua";
import { DataType } from "node-opcua-variant";
import { chooseEndpoint } from "../../protocols/opcua/endpoint.js";
import {
  effectiveLimit,
  layoutSubscriptions,
  type SubscriptionLayout,
} from "../../protocols/opcua/layout.js";
import { isGood, qualityOf } from "../../protocols/opcua/status.js";
import { pointTypeOf, valueToVariant, variantToValue } from "../../protocols/opcua/variant.js";
import type {
  Adapter,
  AdapterContext,
  BrowseNode,
  PointConfig,
  Sample,
  SampleValue,
  WriteResult,
} from "../../src/sdk/index.js";
import {
  type MonitorParams,
  type NodeMeta,
  nodeOpcuaFactory,
  type OpcuaClientFactory,
  type OpcuaConnection,
  type SubscriptionHandle,
} from "./client.js";
import type { OpcuaPointFields, OpcuaSettings } from "./config.js";
import { pkiFolder } from "./pki.js";

/** An OPC UA point: core fields plus address and monitoring settings. */
export type OpcuaPoint = PointConfig<OpcuaPointFields>;
/** The context the core hands an OPC UA instance. */
export type OpcuaContext = AdapterContext<OpcuaSettings, OpcuaPointFields>;
/** An OPC UA instance: it can read, write and browse, and plans its subscriptions. */
export type OpcuaInstance = Required<
  Pick<Adapter<OpcuaPointFields>, "start" | "stop" | "read" | "write" | "browse" | "plan">
>;

/** The OPC UA Objects folder, where browsing starts. */
export const OBJECTS_FOLDER = "ns=0;i=85";

/** Raised when the server refuses a write; `status` is the OPC UA status code name. */
export class OpcuaWriteError extends Error {
  constructor(
    readonly point: string,
    readonly status: string,
  ) {
    super(`write to ${point} refused by the server: ${status}`);
  }
}

interface Item {
  id: string;
  nodeId: string;
  paramsKey: string;
  params: MonitorParams;
}

interface LiveSubscription {
  layout: SubscriptionLayout<Item>;
  handle: SubscriptionHandle;
}

/** Whether the core polls this point (mode poll) rather than the adapter subscribing to it. */
export const isPolled = (point: { mode?: string }): boolean => point.mode === "poll";

function monitorParams(point: OpcuaPoint, publishingIntervalMs: number): MonitorParams {
  const params: MonitorParams = {
    samplingIntervalMs: point.samplingIntervalMs ?? publishingIntervalMs,
    queueSize: point.queueSize ?? 1,
    discardOldest: point.discardOldest ?? true,
  };
  if (point.serverDeadband) params.deadband = { ...point.serverDeadband };
  return params;
}

/** Creates an OPC UA instance for one device. No I/O; `factory` is the seam unit tests fake. */
export function createOpcua(
  ctx: OpcuaContext,
  factory: OpcuaClientFactory = nodeOpcuaFactory,
): OpcuaInstance {
  const s = ctx.settings;
  const publishingIntervalMs = s.publishingIntervalMs ?? 1000;
  const items: Item[] = ctx.points
    .filter((p) => !isPolled(p))
    .map((p) => {
      const params = monitorParams(p, publishingIntervalMs);
      return { id: p.id, nodeId: p.address, params, paramsKey: JSON.stringify(params) };
    });
  const byId = new Map(ctx.points.map((p) => [p.id, p]));
  const reconnects = ctx.metrics.counter(
    "opcua_reconnects",
    "Times node-opcua re-established the connection.",
  );
  const recreated = ctx.metrics.counter(
    "opcua_subscriptions_recreated",
    "Subscriptions deleted and created again by the watchdog after going silent.",
  );
  const subscriptionsGauge = ctx.metrics.gauge("opcua_subscriptions", "Subscriptions currently open.");

  let phase: "idle" | "running" | "stopped" = "idle";
  let connected = false;
  let restoredAt = 0;
  let conn: OpcuaConnection | undefined;
  let subs: LiveSubscription[] = [];
  let metas = new Map<string, NodeMeta>();
  let watchdog: NodeJS.Timeout | undefined;
  let abort = new AbortController();

  /** Resolves `p`, or rejects when stop() is called or `ms` passes first. */
  const bounded = <T>(p: Promise<T>, what: string, ms: number): Promise<T> => {
    const signal = abort.signal;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      const onAbort = () => reject(new Error(`opcua ${ctx.device}: stopped while starting`));
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(resolve, reject).finally(() => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      });
    });
  };

  const toSample = (point: OpcuaPoint, dv: DataValue): Sample => {
    const q = qualityOf(dv.statusCode);
    const value = q.quality === "bad" ? null : (variantToValue(dv.value).value as SampleValue);
    const sample: Sample = { point: point.id, value, quality: q.quality };
    if (q.status) sample.status = q.status;
    const ts = dv.sourceTimestamp ?? dv.serverTimestamp;
    if (ts) sample.sourceTs = ts;
    const unit = metas.get(point.id)?.unit;
    if (unit) sample.unit = unit;
    return sample;
  };

  const subscribeAll = async (c: OpcuaConnection, layouts: SubscriptionLayout<Item>[]) => {
    for (const layout of layouts) subs.push({ layout, handle: await openSubscription(c, layout) });
    subscriptionsGauge.set(subs.length);
  };

  const openSubscription = (c: OpcuaConnection, layout: SubscriptionLayout<Item>) =>
    c.subscribe(
      {
        publishingIntervalMs,
        maxNotificationsPerPublish: s.maxNotificationsPerPublish ?? 0,
        groups: layout.groups.map((g) => ({
          params: g.items[0]!.params,
          nodeIds: g.items.map((i) => i.nodeId),
        })),
      },
      (g, i, dv) => {
        if (phase !== "running") return;
        const point = byId.get(layout.groups[g]?.items[i]?.id ?? "");
        if (point) ctx.emit([toSample(point, dv)]);
      },
    );

  /** Recreates subscriptions silent for longer than watchdogFactor keep-alive periods. */
  const checkSubscriptions = async () => {
    if (phase !== "running" || !connected || !conn) return;
    const now = Date.now();
    const factor = s.watchdogFactor ?? 3;
    for (const sub of subs) {
      const since = Math.max(sub.handle.lastActivity(), restoredAt);
      if (now - since <= factor * Math.max(sub.handle.keepAliveMs(), publishingIntervalMs)) continue;
      ctx.log.warn({ items: sub.layout.size }, "subscription silent past its keep-alive: recreating it");
      await sub.handle.close();
      try {
        sub.handle = await openSubscription(conn, sub.layout);
        recreated.inc();
      } catch (err) {
        ctx.log.warn({ err }, "recreating a subscription failed; retrying at the next check");
      }
    }
  };

  const running = (what: string) => {
    if (phase !== "running" || !conn)
      throw new Error(
        `opcua ${ctx.device}: cannot ${what}, ${phase === "stopped" ? "stopped" : "not connected"}`,
      );
    return conn;
  };

  const release = async () => {
    if (watchdog) clearInterval(watchdog);
    watchdog = undefined;
    const c = conn;
    conn = undefined;
    subs = [];
    connected = false;
    await c?.close();
  };

  return {
    async start() {
      if (phase === "running") return;
      phase = "idle";
      abort = new AbortController();
      const timeout = s.connectTimeoutMs ?? 10_000;
      const wish = { mode: s.security ?? "auto", policy: s.securityPolicy };
      if (wish.mode === "none")
        ctx.log.warn("security: none — messages and passwords travel unsigned and unencrypted");
      const pkiDir = pkiFolder(ctx.sharedDir);
      await mkdir(pkiDir, { recursive: true });
      const endpoints = await bounded(
        factory.endpoints(s.endpointUrl, pkiDir, timeout),
        "GetEndpoints",
        timeout,
      );
      const choice = chooseEndpoint(endpoints, wish);
      if ("error" in choice) throw new Error(`${s.endpointUrl}: ${choice.error}`);
      const connecting = factory.connect(
        {
          endpointUrl: s.endpointUrl,
          security: choice,
          identity: s.identity ?? { kind: "anonymous" },
          pkiDir,
          acceptServerCertificate: s.acceptServerCertificate ?? false,
          sessionTimeoutMs: s.sessionTimeoutMs ?? 60_000,
          log: ctx.log,
        },
        {
          lost: (reason) => {
            if (phase !== "running") return;
            connected = false;
            ctx.setState("disconnected", reason);
          },
          restored: () => {
            if (phase !== "running") return;
            connected = true;
            restoredAt = Date.now();
            reconnects.inc();
            ctx.log.info("connection re-established");
            ctx.setState("connected");
          },
        },
      );
      try {
        conn = await bounded(connecting, "connect", timeout);
      } catch (err) {
        // A connection that arrives after stop() or a timeout is closed, not leaked.
        connecting.then((c) => c.close()).catch(() => undefined);
        throw err;
      }
      try {
        const all = ctx.points.map((p) => p.address);
        const found = all.length > 0 ? await bounded(conn.meta(all), "read node attributes", timeout) : [];
        metas = new Map(ctx.points.map((p, i) => [p.id, found[i]!]));
        if (items.length > 0) {
          const server = await conn.subscriptionLimits().catch(() => ({}));
          const limit = effectiveLimit(s.maxItemsPerSubscription ?? 1000, server, items.length);
          if (!abort.signal.aborted) phase = "running";
          await bounded(subscribeAll(conn, layoutSubscriptions(items, limit)), "subscribe", timeout);
        }
      } catch (err) {
        phase = "idle";
        await release();
        throw err;
      }
      if (abort.signal.aborted) throw new Error(`opcua ${ctx.device}: stopped while starting`);
      phase = "running";
      connected = true;
      ctx.log.info(
        { security: `${choice.mode}/${choice.policy}`, subscriptions: subs.length },
        "session open",
      );
      watchdog = setInterval(() => void checkSubscriptions(), Math.max(500, publishingIntervalMs));
      watchdog.unref();
    },

    async stop() {
      phase = "stopped";
      abort.abort();
      await release();
    },

    async read(points) {
      const c = running("read");
      const dvs = await c.read(points.map((p) => p.address));
      return points.map((p, i) => toSample(p, dvs[i]!));
    },

    async write(point, value): Promise<WriteResult> {
      const c = running("write");
      if (point.access !== "readwrite")
        throw new Error(`point ${point.id} is read-only (access: ${point.access ?? "read"})`);
      let meta = metas.get(point.id);
      if (!meta) {
        [meta] = await c.meta([point.address]);
        if (meta) metas.set(point.id, meta);
      }
      if (!meta?.dataType) throw new Error(`point ${point.id}: the data type of ${point.address} is unknown`);
      const variant = valueToVariant(meta.dataType, meta.isArray, value);
      const status = await c.write(point.address, variant);
      if (!isGood(status)) throw new OpcuaWriteError(point.id, status.name);
      return { status: status.name };
    },

    async browse(node) {
      const c = running("browse");
      const children = await c.browse(node ?? OBJECTS_FOLDER);
      return children.map((n): BrowseNode => {
        const out: BrowseNode = {
          id: n.nodeId,
          name: n.displayName,
          browseName: n.browseName,
          kind: n.nodeClass,
          hasChildren: n.hasChildren,
        };
        if (n.dataType !== undefined) out.dataType = DataType[n.dataType] ?? String(n.dataType);
        const type = n.dataType === undefined ? undefined : pointTypeOf(n.dataType, n.isArray);
        if (type) out.type = type;
        if (n.nodeClass === "Variable") out.access = n.writable ? "readwrite" : "read";
        return out;
      });
    },

    plan() {
      const layouts = layoutSubscriptions(items, s.maxItemsPerSubscription ?? 1000);
      return {
        security: s.security ?? "auto",
        publishingIntervalMs,
        subscriptions: layouts.map((l) => ({
          items: l.size,
          groups: l.groups.map((g) => ({ ...g.items[0]!.params, points: g.items.map((i) => i.id) })),
        })),
        polled: ctx.points.filter(isPolled).map((p) => p.id),
      };
    },
  };
}
