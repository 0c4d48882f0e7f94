/**
 * The OPC UA adapter: one session per device, monitored items for `subscribe` points (pushed with
 * ctx.emit), reads for `poll` points (scheduled by the core), writes, browse. node-opcua reconnects
 * by itself; its events become device state, and after each reconnect the adapter resolves namespace
 * URIs again and creates its subscriptions anew. A watchdog marks the points of a subscription whose
 * publish responses stopped stale (ctx.markStale) and recreates it if it stays silent.
 */
import { mkdir } from "node:fs/promises";
import type { DataValue } from "node-opcua";
import { chooseEndpoint } from "../../protocols/opcua/endpoint.js";
import { effectiveLimit, layoutSubscriptions } from "../../protocols/opcua/layout.js";
import { type ParsedNodeId, parseNodeId, resolveNodeId } from "../../protocols/opcua/nodeid.js";
import { isGood, qualityOf } from "../../protocols/opcua/status.js";
import {
  type Adapter,
  type AdapterContext,
  type BrowseNode,
  lazyImport,
  type PointConfig,
  type Sample,
  type SampleValue,
  WriteRefused,
  type WriteResult,
} from "../../src/sdk/index.js";
import {
  type ConnectionEvents,
  type ConnectOptions,
  type NodeMeta,
  nodeOpcuaFactory,
  type OpcuaClientFactory,
  type OpcuaConnection,
} from "./client.js";
import type { OpcuaPointFields, OpcuaSettings } from "./config.js";
import { pkiFolder } from "./pki.js";
import { recoverWithBackoff } from "./reconnect.js";
import {
  type Item,
  type LiveSubscription,
  monitorParams,
  openSubscription,
  type SubscriptionDeps,
  watchSubscription,
} from "./subscriptions.js";
import { deviceTrust, type TrustCheck } from "./trust.js";

export { staleWindowMs } from "./subscriptions.js";

/** node-opcua's variant codec, imported when the first OPC UA device starts. */
const codec = lazyImport(() => import("../../protocols/opcua/variant.js"));

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

/** Whether the core polls this point (mode poll) rather than the adapter subscribing to it. */
export const isPolled = (point: { mode?: string }): boolean => point.mode === "poll";

/** The status of a point whose `nsu=` namespace the server does not have. */
export const UNKNOWN_NAMESPACE = "BadNodeIdUnknown";

/** A point's address parsed; config load refused malformed ones, so this only guards direct use. */
function parsedAddress(point: OpcuaPoint): ParsedNodeId {
  const r = parseNodeId(point.address);
  if (!r.ok) throw new Error(`point ${point.id}: not an OPC UA node id: ${point.address} (${r.error})`);
  return r.nodeId;
}

/** Creates an OPC UA instance for one device. No I/O; `factory` is the seam unit tests fake. */
export function createOpcua(
  ctx: OpcuaContext,
  factory: OpcuaClientFactory = nodeOpcuaFactory,
): OpcuaInstance {
  const s = ctx.settings;
  const clock = ctx.clock;
  const publishingIntervalMs = s.publishingIntervalMs ?? 1000;
  const parsed = new Map(ctx.points.map((p) => [p.id, parsedAddress(p)]));
  const byNamespaceUri = [...parsed.values()].some((n) => typeof n.namespace === "string");
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
  /** Point id → node id on this server (namespace URIs resolved); undefined: unknown namespace. */
  let resolved = new Map<string, string | undefined>();
  /** Bumped whenever the connection is lost or restored: subscriptions of older ones are dead. */
  let generation = 0;
  /** Subscriptions must be created again (a rebuild after a reconnect failed). */
  let rebuildPending = false;
  /** The namespace resolution of a reconnect in progress: reads wait for it, not to use old indexes. */
  let resolving: Promise<void> | undefined;
  let checking = false;
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
  const timeout = s.connectTimeoutMs ?? 10_000;

  const toSample = (point: OpcuaPoint, dv: DataValue): Sample => {
    const q = qualityOf(dv.statusCode);
    const value = q.quality === "bad" ? null : (codec.get().variantToValue(dv.value).value as SampleValue);
    const sample: Sample = { point: point.id, value, quality: q.quality };
    if (q.status) sample.status = q.status;
    const ts = dv.sourceTimestamp ?? dv.serverTimestamp;
    if (ts) sample.sourceTs = ts;
    const unit = metas.get(point.id)?.unit;
    if (unit) sample.unit = unit;
    return sample;
  };
  const bad = (point: string, status: string): Sample => ({ point, value: null, quality: "bad", status });

  /** Resolves every point's namespace against the server's namespace array, read anew. */
  const resolveAll = async (c: OpcuaConnection) => {
    const table = byNamespaceUri ? await bounded(c.namespaces(), "read the namespace array", timeout) : [];
    resolved = new Map(ctx.points.map((p) => [p.id, resolveNodeId(parsed.get(p.id)!, table)]));
    const unknown = ctx.points.filter((p) => resolved.get(p.id) === undefined);
    if (unknown.length > 0)
      ctx.log.warn(
        { points: unknown.map((p) => p.id), namespaces: table },
        "namespace URI not on the server: points are bad/BadNodeIdUnknown",
      );
  };

  /** Reads node attributes (data type, unit) of the resolved points. */
  const readMetas = async (c: OpcuaConnection) => {
    const known = ctx.points.filter((p) => resolved.get(p.id) !== undefined);
    const found = known.length > 0 ? await c.meta(known.map((p) => resolved.get(p.id)!)) : [];
    metas = new Map(known.map((p, i) => [p.id, found[i]!]));
  };

  /** Reads points once and emits them: after a stale period, values that did not change since. */
  const refresh = async (ids: readonly string[], gen: number) => {
    const c = conn;
    const points = ids.map((id) => byId.get(id)!).filter((p) => resolved.get(p.id) !== undefined);
    if (!c || points.length === 0) return;
    try {
      const dvs = await c.read(points.map((p) => resolved.get(p.id)!));
      if (phase === "running" && gen === generation) ctx.emit(points.map((p, i) => toSample(p, dvs[i]!)));
    } catch (err) {
      ctx.log.debug({ err }, "re-reading points after a silent subscription failed");
    }
  };

  const deps: SubscriptionDeps = {
    ctx,
    publishingIntervalMs,
    current: (gen) => phase === "running" && gen === generation,
    connected: () => connected,
    sample: (id, dv) => {
      const point = byId.get(id);
      return point ? toSample(point, dv) : undefined;
    },
    refresh: (ids, gen) => void refresh(ids, gen),
    recreated,
  };

  /** Creates every subscription of this connection, for the points whose namespace resolved. */
  const subscribeAll = async (c: OpcuaConnection, gen: number) => {
    const unknown = items.filter((i) => resolved.get(i.id) === undefined);
    if (unknown.length > 0) ctx.emit(unknown.map((i) => bad(i.id, UNKNOWN_NAMESPACE)));
    const here = items.flatMap((i) => {
      const nodeId = resolved.get(i.id);
      return nodeId === undefined ? [] : [{ ...i, nodeId }];
    });
    if (here.length === 0) return;
    const server = await c.subscriptionLimits().catch(() => ({}));
    const limit = effectiveLimit(s.maxItemsPerSubscription ?? 1000, server, here.length);
    for (const layout of layoutSubscriptions(here, limit)) {
      const live = await openSubscription(deps, c, layout, gen);
      if (gen !== generation) {
        await live.handle.close();
        return;
      }
      subs.push(live);
      subscriptionsGauge.set(subs.length);
    }
  };

  /**
   * After node-opcua restored the connection: the server may have restarted with renumbered
   * namespaces or other nodes, so namespaces are resolved again and the subscriptions created anew
   * (which also delivers every item's current value and its creation result), replacing the ones
   * node-opcua transferred or recreated with the old node ids.
   */
  const rebuild = async () => {
    const c = conn;
    if (!c || phase !== "running") return;
    const gen = ++generation;
    rebuildPending = false;
    // Set before the first await: a read from now on waits for the new namespace indexes.
    resolving = resolveAll(c);
    resolving.catch(() => undefined); // handled below; not an unhandled rejection meanwhile
    const old = subs;
    subs = [];
    subscriptionsGauge.set(0);
    await Promise.all(old.map((o) => o.handle.close()));
    try {
      await resolving;
      await readMetas(c).catch((err) => ctx.log.debug({ err }, "reading node attributes failed"));
      await bounded(subscribeAll(c, gen), "subscribe", timeout);
    } catch (err) {
      if (gen !== generation || phase !== "running") return;
      rebuildPending = true;
      ctx.log.warn({ err }, "creating the subscriptions after a reconnect failed; retrying");
    }
  };

  /**
   * The watchdog, every tick: a subscription silent past its keep-alive window has its points marked
   * stale; one silent for watchdogFactor keep-alive periods, or ended, is created again.
   */
  const checkSubscriptions = async () => {
    if (phase !== "running" || !connected || !conn || checking) return;
    checking = true;
    try {
      if (rebuildPending) return await rebuild();
      const list = subs;
      for (const [n, sub] of list.entries()) {
        const next = await watchSubscription(deps, conn, sub, restoredAt);
        if (list !== subs) {
          // A reconnect replaced the subscriptions meanwhile: this one belongs to none of them.
          if (next !== sub) await next.handle.close();
          return;
        }
        list[n] = next;
      }
    } finally {
      checking = false;
    }
  };

  const running = (what: string) => {
    if (phase !== "running" || !conn)
      throw new Error(
        `opcua ${ctx.device}: cannot ${what}, ${phase === "stopped" ? "stopped" : "not connected"}`,
      );
    return conn;
  };

  /** The node id of `point` on this server; a refused write when its namespace is unknown. */
  const nodeIdOf = (point: OpcuaPoint): string => {
    const id = resolved.get(point.id);
    if (id === undefined) throw new OpcuaWriteError(point.id, UNKNOWN_NAMESPACE);
    return id;
  };

  /** The device's state reason while it reconnects, logged once per change (not per attempt). */
  let reason: string | undefined;
  const report = (why: string) => {
    if (why === reason) return;
    reason = why;
    ctx.setState("disconnected", why);
    ctx.log.warn({ reason: why }, "disconnected");
  };

  const restored = () => {
    if (phase !== "running") return;
    reason = undefined;
    connected = true;
    restoredAt = clock.now();
    reconnects.inc();
    ctx.log.info("connection re-established");
    ctx.setState("connected");
    void rebuild();
  };

  let options: ConnectOptions | undefined;
  let trust: TrustCheck | undefined;
  const events: ConnectionEvents = {
    lost: (why) => {
      if (phase !== "running") return;
      connected = false;
      generation++; // what the old subscriptions still deliver is not trusted
      report(why);
      void recover();
    },
    restored,
  };

  let recovering = false;
  /**
   * After a lost connection: one attempt per step of the device's reconnect backoff (reconnect.ts),
   * each a fresh client and session; the reason of a failed one (e.g. BadCertificateUntrusted with
   * the thumbprint) becomes the state reason. Ends when connected, when the old connection repaired
   * itself (`restored`), or at stop().
   */
  const recover = async () => {
    const opts = options;
    if (recovering || !opts) return;
    recovering = true;
    let dead = conn;
    let attempts = 0;
    try {
      await recoverWithBackoff({
        backoff: ctx.reconnect,
        signal: abort.signal,
        wanted: () => phase === "running" && !connected,
        attempt: async () => {
          if (dead) {
            if (conn === dead) conn = undefined;
            subs = [];
            subscriptionsGauge.set(0);
            await dead.close().catch(() => undefined);
            dead = undefined;
          }
          ctx.log.debug({ attempt: ++attempts }, "reconnecting");
          const connecting = factory.connect(opts, events);
          const c = await bounded(connecting, "connect", timeout).catch((err: unknown) => {
            connecting.then((late) => late.close()).catch(() => undefined);
            throw err;
          });
          if (phase !== "running") return void (await c.close());
          conn = c;
          restored();
        },
        failed: (why, retryInMs) => {
          ctx.log.debug({ attempt: attempts, retryInMs }, "reconnect attempt failed");
          report(`reconnect failed: ${why}`);
        },
      });
    } finally {
      recovering = false;
    }
    // Lost again before this recovery had ended: start the next one.
    if (phase === "running" && !connected && !abort.signal.aborted) void recover();
  };

  const release = async () => {
    if (watchdog) clearInterval(watchdog);
    watchdog = undefined;
    generation++;
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
      await codec.load();
      const wish = { mode: s.security ?? "auto", policy: s.securityPolicy };
      if (wish.mode === "none")
        ctx.log.warn("security: none — messages and passwords travel unsigned and unencrypted");
      const pkiDir = pkiFolder(ctx.sharedDir);
      await mkdir(pkiDir, { recursive: true });
      trust ??= deviceTrust({
        pkiDir,
        deviceDir: ctx.dataDir,
        accept: s.acceptServerCertificate ?? false,
        log: ctx.log,
      });
      const endpoints = await bounded(
        factory.endpoints(s.endpointUrl, pkiDir, timeout),
        "GetEndpoints",
        timeout,
      );
      const choice = chooseEndpoint(endpoints, wish);
      if ("error" in choice) throw new Error(`${s.endpointUrl}: ${choice.error}`);
      options = {
        endpointUrl: s.endpointUrl,
        security: choice,
        identity: s.identity ?? { kind: "anonymous" },
        pkiDir,
        trust,
        sessionTimeoutMs: s.sessionTimeoutMs ?? 60_000,
        log: ctx.log,
      };
      const connecting = factory.connect(options, events);
      try {
        conn = await bounded(connecting, "connect", timeout);
      } catch (err) {
        // A connection that arrives after stop() or a timeout is closed, not leaked.
        connecting.then((c) => c.close()).catch(() => undefined);
        throw err;
      }
      try {
        await resolveAll(conn);
        await bounded(readMetas(conn), "read node attributes", timeout);
        if (!abort.signal.aborted) phase = "running";
        await bounded(subscribeAll(conn, generation), "subscribe", timeout);
      } catch (err) {
        phase = "idle";
        await release();
        throw err;
      }
      if (abort.signal.aborted) throw new Error(`opcua ${ctx.device}: stopped while starting`);
      phase = "running";
      connected = true;
      reason = undefined;
      ctx.log.info(
        { security: `${choice.mode}/${choice.policy}`, subscriptions: subs.length },
        "session open",
      );
      const tick = Math.max(100, Math.min(publishingIntervalMs, 1000));
      watchdog = setInterval(() => void checkSubscriptions(), tick);
      watchdog.unref();
    },

    async stop() {
      phase = "stopped";
      abort.abort();
      await release();
    },

    async read(points) {
      // While reconnecting the core already shows every point bad/Disconnected.
      if (phase === "running" && !connected) return [];
      const c = running("read");
      const once = async () => {
        if (byNamespaceUri) await resolving?.catch(() => undefined);
        const known = points.filter((p) => resolved.get(p.id) !== undefined);
        const dvs = known.length > 0 ? await c.read(known.map((p) => resolved.get(p.id)!)) : [];
        const got = new Map(known.map((p, i) => [p.id, toSample(p, dvs[i]!)]));
        return points.map((p) => got.get(p.id) ?? bad(p.id, UNKNOWN_NAMESPACE));
      };
      // While node-opcua reconnects the core already shows every point bad/Disconnected; a read
      // failing for that reason reports nothing rather than making the core restart the adapter
      // beside the library's own reconnection.
      const gen = generation;
      if (!connected) return [];
      let samples: Sample[];
      try {
        samples = await once();
      } catch (err) {
        await new Promise((r) => setImmediate(r)); // let the library's connection events arrive
        if (phase === "running" && (!connected || c.reconnecting())) return [];
        throw err;
      }
      // node-opcua holds a read across a reconnect and sends it with the node ids it was given:
      // after a restart those namespace indexes may mean other namespaces, so read again.
      return byNamespaceUri && gen !== generation ? once() : samples;
    },

    async write(point, value): Promise<WriteResult> {
      const c = running("write");
      if (point.access !== "readwrite")
        throw new Error(`point ${point.id} is read-only (access: ${point.access ?? "read"})`);
      const nodeId = nodeIdOf(point);
      let meta = metas.get(point.id);
      if (!meta) {
        [meta] = await c.meta([nodeId]);
        if (meta) metas.set(point.id, meta);
      }
      if (!meta?.dataType) throw new Error(`point ${point.id}: the data type of ${point.address} is unknown`);
      const { CoercionError, valueToVariant } = codec.get();
      let variant: ReturnType<typeof valueToVariant>;
      try {
        variant = valueToVariant(meta.dataType, meta.isArray, value);
      } catch (err) {
        // A value the node's data type cannot hold is refused before anything is sent (422).
        if (err instanceof CoercionError)
          throw new WriteRefused("InvalidValue", `point ${point.id}: ${err.message}`);
        throw err;
      }
      const status = await c.write(nodeId, variant);
      if (!isGood(status)) throw new OpcuaWriteError(point.id, status.name);
      return { status: status.name };
    },

    async browse(node) {
      const c = running("browse");
      let start = OBJECTS_FOLDER;
      if (node !== undefined) {
        const p = parseNodeId(node);
        if (!p.ok) throw new Error(`not an OPC UA node id: ${node} (${p.error})`);
        const table = typeof p.nodeId.namespace === "string" ? await c.namespaces() : [];
        const id = resolveNodeId(p.nodeId, table);
        if (id === undefined)
          throw new Error(`browse ${node}: the server has no namespace ${p.nodeId.namespace}`);
        start = id;
      }
      const children = await c.browse(start);
      const { dataTypeName, pointTypeOf } = codec.get();
      return children.map((n): BrowseNode => {
        const out: BrowseNode = {
          id: n.nodeId,
          name: n.displayName,
          browseName: n.browseName,
          kind: n.nodeClass,
          hasChildren: n.hasChildren,
        };
        if (n.dataType !== undefined) out.dataType = dataTypeName(n.dataType);
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
