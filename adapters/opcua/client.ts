/**
 * The seam over node-opcua: discovery, one session with its reconnection, reads, writes, browse and
 * monitored items. node-opcua is imported on first use, so loading the adapter definition stays cheap.
 * Unit tests fake `OpcuaClientFactory`; integration tests run this against a real server.
 */
import { readFile } from "node:fs/promises";
import { format } from "node:util";
import type * as Opcua from "node-opcua";
import type { ClientSession, ClientSubscription, DataValue, OPCUAClient } from "node-opcua";
import type { Logger } from "pino";
import type { EndpointInfo, SecurityChoice } from "../../protocols/opcua/endpoint.js";
import type { ServerLimits as ServerLimitsOfLayout } from "../../protocols/opcua/layout.js";
import { parseNodeId } from "../../protocols/opcua/nodeid.js";
import type { OpcuaIdentity } from "./config.js";
import { type TrustCheck, untrustedReason } from "./trust.js";

/** Application name of the gateway's OPC UA client; its certificate's URI is derived from it. */
export const APPLICATION_NAME = "tagbridge";

let loaded: Promise<typeof Opcua> | undefined;
/** node-opcua, imported once on first use (it takes 1–2 s); its console output goes to `log`. */
export const loadOpcua = (log?: Logger): Promise<typeof Opcua> => {
  const ready = routeLibraryLogs(log);
  loaded ??= ready.then(() => import("node-opcua"));
  return loaded;
};

let routed: Promise<void> | undefined;
let libraryLog: Logger | undefined;
/**
 * node-opcua prints warnings and errors straight to the console, some while its modules load. Send
 * them to pino instead (warnings at debug, errors at warn), before anything of it is imported. The
 * library's loggers are process-wide: they write to the first logger given (dropped until then).
 */
export function routeLibraryLogs(log?: Logger): Promise<void> {
  libraryLog ??= log?.child({ lib: "node-opcua" });
  routed ??= import("node-opcua-debug").then((debug) => {
    debug.setWarningLogger((...args: unknown[]) => libraryLog?.debug(format(...args)));
    debug.setErrorLogger((...args: unknown[]) => libraryLog?.warn(format(...args)));
    debug.setTraceLogger((...args: unknown[]) => libraryLog?.trace(format(...args)));
  });
  return routed;
}

/** What `connect` needs. */
export interface ConnectOptions {
  endpointUrl: string;
  security: SecurityChoice;
  identity: OpcuaIdentity;
  /** PKI folder: the application certificate (and the shared trust lists `trust` reads). */
  pkiDir: string;
  /** This device's decision on the server's certificate (see trust.ts); nothing else trusts one. */
  trust: TrustCheck;
  sessionTimeoutMs: number;
  log: Logger;
}

/**
 * Connection events the adapter maps to device state. node-opcua's own reconnection is off (it
 * retries a failed handshake with no delay, e.g. after a certificate change): after `lost` the
 * adapter connects again itself, paced by the device's reconnect backoff.
 */
export interface ConnectionEvents {
  /** The connection broke. Called at most once per connection. */
  lost(reason: string): void;
  /** The same connection is usable again (a client that repairs itself); node-opcua's never does. */
  restored(): void;
}

/** What the adapter needs to know of a node to convert writes and name its unit. */
export interface NodeMeta {
  /** Built-in DataType number (node-opcua's `DataType`), 0 when unknown. */
  dataType: number;
  isArray: boolean;
  writable: boolean;
  /** EngineeringUnits display name, when the node has them. */
  unit?: string;
}

/** A child node found by browsing. */
export interface BrowsedNode {
  nodeId: string;
  browseName: string;
  displayName: string;
  nodeClass: string;
  /** Built-in DataType number of a variable. */
  dataType?: number;
  isArray?: boolean;
  writable?: boolean;
  hasChildren: boolean;
}

/** Monitoring parameters of a set of items. */
export interface MonitorParams {
  samplingIntervalMs: number;
  queueSize: number;
  discardOldest: boolean;
  deadband?: { mode: "absolute" | "percent"; value: number };
}

/** One subscription's spec: groups of items with one parameter set each. */
export interface SubscriptionSpec {
  publishingIntervalMs: number;
  maxNotificationsPerPublish: number;
  groups: { params: MonitorParams; nodeIds: string[] }[];
}

/** What a subscription tells the adapter. */
export interface SubscriptionListener {
  /** A changed value of item `item` of group `group`. */
  data(group: number, item: number, value: DataValue): void;
  /** A publish response arrived: notifications or a keep-alive. */
  alive(): void;
  /** The subscription ended without close(): terminated, a status change (e.g. BadTimeout), an internal error. */
  ended(reason: string): void;
}

/** A live subscription. */
export interface SubscriptionHandle {
  /** Keep-alive period the server granted (revised publishing interval × revised max keep-alive count), in ms. */
  keepAliveMs(): number;
  /** The revised publishing interval, in ms. */
  publishingIntervalMs(): number;
  /** Each item's creation result by group: `Good`, or the status code name the server refused it with. */
  results: string[][];
  close(): Promise<void>;
}

/** The subscription limits a server states; undefined where it states none. */
export type SubscriptionLimits = ServerLimitsOfLayout;

/** Server limits read from ServerCapabilities; undefined when the server gives none. */
interface ServerLimits {
  /** OperationLimits.MaxNodesPerRead. */
  read?: number;
  /** OperationLimits.MaxNodesPerTranslateBrowsePathsToNodeIds. */
  translate?: number;
  /** MaxMonitoredItemsPerSubscription. */
  itemsPerSubscription?: number;
  /** MaxSubscriptionsPerSession. */
  subscriptionsPerSession?: number;
}

/**
 * A connected session. Node ids given to it are text in the forms `protocols/opcua/nodeid` parses
 * without a namespace URI (the adapter resolves `nsu=` first); a malformed one is rejected.
 */
export interface OpcuaConnection {
  read(nodeIds: readonly string[]): Promise<DataValue[]>;
  meta(nodeIds: readonly string[]): Promise<NodeMeta[]>;
  write(nodeId: string, value: Opcua.Variant): Promise<Opcua.StatusCode>;
  browse(nodeId: string): Promise<BrowsedNode[]>;
  /** True while node-opcua is re-establishing the connection after a break. */
  reconnecting(): boolean;
  /** The server's NamespaceArray, read now (a restarted server may have renumbered it). */
  namespaces(): Promise<string[]>;
  /** The server's subscription limits (ServerCapabilities), read once per session. */
  subscriptionLimits(): Promise<SubscriptionLimits>;
  /** `onData(groupIndex, itemIndex, value)` for every change. */
  subscribe(spec: SubscriptionSpec, listener: SubscriptionListener): Promise<SubscriptionHandle>;
  close(): Promise<void>;
}

/**
 * A node-opcua NodeId built from parsed parts, never from node-opcua's own text parser (which
 * matches unanchored patterns and would read `ns=1;s=a ns=2;i=5` as `ns=2;i=5`).
 */
export function uaNodeId(ua: typeof Opcua, text: string): Opcua.NodeId {
  const parsed = parseNodeId(text);
  if (!parsed.ok) throw new Error(`not an OPC UA node id: ${text} (${parsed.error})`);
  const { namespace, identifier: id } = parsed.nodeId;
  if (typeof namespace !== "number") throw new Error(`unresolved namespace URI in ${text}`);
  const T = ua.NodeIdType;
  switch (id.kind) {
    case "i":
      return new ua.NodeId(T.NUMERIC, id.value, namespace);
    case "s":
      return new ua.NodeId(T.STRING, id.value, namespace);
    case "g":
      return new ua.NodeId(T.GUID, id.value, namespace);
    case "b":
      return new ua.NodeId(T.BYTESTRING, Buffer.from(id.value, "base64"), namespace);
  }
}

/** The seam: discovery and connection. */
export interface OpcuaClientFactory {
  /** The endpoints a server offers (over an unsecured discovery channel). */
  endpoints(endpointUrl: string, pkiDir: string, timeoutMs: number): Promise<EndpointInfo[]>;
  connect(options: ConnectOptions, events: ConnectionEvents): Promise<OpcuaConnection>;
}

/** The node-opcua implementation of the seam. */
export const nodeOpcuaFactory: OpcuaClientFactory = {
  async endpoints(endpointUrl, pkiDir, timeoutMs) {
    const ua = await loadOpcua();
    const clientCertificateManager = new ua.OPCUACertificateManager({ rootFolder: pkiDir });
    const client = ua.OPCUAClient.create({
      applicationName: APPLICATION_NAME,
      clientCertificateManager,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      transportTimeout: timeoutMs,
    });
    try {
      await client.connect(endpointUrl);
      const eps = await client.getEndpoints();
      return eps.map((e) => ({
        securityMode: e.securityMode,
        securityPolicyUri: e.securityPolicyUri,
        securityLevel: e.securityLevel,
      }));
    } finally {
      await client.disconnect().catch(() => undefined);
      await clientCertificateManager.dispose().catch(() => undefined);
    }
  },

  async connect(options, events) {
    const ua = await loadOpcua(options.log);
    const certificateManager = new ua.OPCUACertificateManager({
      rootFolder: options.pkiDir,
      automaticallyAcceptUnknownCertificate: false,
    });
    await certificateManager.initialize();
    // The server certificate is judged by this device's check, never by node-opcua's shared,
    // cached lists (which auto-accept would write to for every device).
    let refused: string | undefined;
    const { split_der } = await import("node-opcua-crypto");
    const check = async (chain: Buffer | Buffer[]): Promise<Opcua.StatusCode> => {
      const certs = Array.isArray(chain) ? chain : split_der(chain);
      const verdict = await options.trust(certs[0] ?? Buffer.alloc(0));
      if (!verdict.trusted) {
        refused = verdict.thumbprint;
        return ua.StatusCodes.BadCertificateUntrusted;
      }
      const status = await certificateManager.verifyCertificate(Buffer.concat(certs), {
        acceptCertificateWithValidIssuerChain: true,
      });
      // Trust is decided above; node-opcua still judges validity (dates, signature, chain).
      return status === "Good" || status === "BadCertificateUntrusted"
        ? ua.StatusCodes.Good
        : (ua.StatusCodes[status as keyof typeof ua.StatusCodes] as Opcua.StatusCode);
    };
    Object.assign(certificateManager, {
      checkCertificate: (
        chain: Buffer | Buffer[],
        callback?: (e: Error | null, s?: Opcua.StatusCode) => void,
      ) => {
        const done = check(chain);
        if (!callback) return done;
        done.then((st) => callback(null, st), callback);
        return undefined;
      },
    });
    const client = ua.OPCUAClient.create({
      applicationName: APPLICATION_NAME,
      endpointMustExist: false,
      securityMode: ua.MessageSecurityMode[options.security.mode],
      securityPolicy: ua.SecurityPolicy[options.security.policy],
      clientCertificateManager: certificateManager,
      requestedSessionTimeout: options.sessionTimeoutMs,
      keepSessionAlive: true,
      // One TCP connection per attempt and no reconnection of its own: node-opcua retries a failed
      // handshake with no delay (a reconnect storm on a new server certificate); the core (start)
      // and the adapter (after a loss) retry with the device's backoff instead.
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    });
    // One `lost` per connection, once its session exists (a failing connect only rejects). The
    // client has no reconnection of its own (maxRetry 0): its channel closing ends it.
    let up = false;
    const down = (reason: string) => {
      if (!up) return;
      up = false;
      events.lost(reason);
    };
    const closing = { now: false };
    client.on("connection_lost", () => down("connection lost"));
    client.on("close", () => {
      if (!closing.now) down("connection lost");
    });
    try {
      await client.connect(options.endpointUrl);
      const session = await client.createSession(await userIdentity(ua, options.identity));
      up = true;
      return new NodeOpcuaConnection(ua, client, session, certificateManager, closing);
    } catch (error) {
      closing.now = true;
      await client.disconnect().catch(() => undefined);
      await certificateManager.dispose().catch(() => undefined);
      if (refused) throw new Error(untrustedReason(refused), { cause: error });
      throw error;
    }
  },
};

async function userIdentity(ua: typeof Opcua, identity: OpcuaIdentity): Promise<Opcua.UserIdentityInfo> {
  switch (identity.kind) {
    case "anonymous":
      return { type: ua.UserTokenType.Anonymous };
    case "username":
      return { type: ua.UserTokenType.UserName, userName: identity.username, password: identity.password };
    case "certificate": {
      const pem = await import("node-opcua-crypto");
      const certificateData = pem.convertPEMtoDER(await readFile(identity.certificateFile, "utf8"));
      const privateKey = await readFile(identity.privateKeyFile, "utf8");
      return { type: ua.UserTokenType.Certificate, certificateData, privateKey };
    }
  }
}

class NodeOpcuaConnection implements OpcuaConnection {
  constructor(
    private readonly ua: typeof Opcua,
    private readonly client: OPCUAClient,
    private readonly session: ClientSession,
    private readonly certificates: Opcua.OPCUACertificateManager,
    private readonly closing: { now: boolean },
  ) {}

  private limitsRead: Promise<ServerLimits> | undefined;

  /** The server's operation limits that matter here, read once per session (undefined = none given). */
  private limits(): Promise<ServerLimits> {
    const ids = this.ua.VariableIds;
    const nodes = [
      ids.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
      ids.Server_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIds,
      ids.Server_ServerCapabilities_MaxMonitoredItemsPerSubscription,
      ids.Server_ServerCapabilities_MaxSubscriptionsPerSession,
    ].map((i) => ({ nodeId: `ns=0;i=${i}`, attributeId: this.ua.AttributeIds.Value }));
    this.limitsRead ??= this.session.read(nodes).then(
      (dvs) => {
        const n = (i: number) => {
          const v = dvs[i]?.statusCode.value === 0 ? dvs[i]?.value.value : undefined;
          return typeof v === "number" && v > 0 ? v : undefined;
        };
        return { read: n(0), translate: n(1), itemsPerSubscription: n(2), subscriptionsPerSession: n(3) };
      },
      () => ({}),
    );
    return this.limitsRead;
  }

  /** Calls `op` on slices of `all` no longer than `max` (all at once when there is no limit). */
  private async chunked<T, R>(all: readonly T[], max: number | undefined, op: (part: T[]) => Promise<R[]>) {
    if (!max || all.length <= max) return op([...all]);
    const out: R[] = [];
    for (let i = 0; i < all.length; i += max) out.push(...(await op(all.slice(i, i + max))));
    return out;
  }

  /** A Read service call split by the server's MaxNodesPerRead. */
  private async readAll(nodes: readonly Opcua.ReadValueIdOptions[]): Promise<DataValue[]> {
    const { read } = await this.limits();
    return this.chunked(nodes, read, (part) => this.session.read(part));
  }

  private id(text: string): Opcua.NodeId {
    return uaNodeId(this.ua, text);
  }

  read(nodeIds: readonly string[]): Promise<DataValue[]> {
    const { AttributeIds } = this.ua;
    return this.readAll(nodeIds.map((n) => ({ nodeId: this.id(n), attributeId: AttributeIds.Value })));
  }

  reconnecting(): boolean {
    return this.client.isReconnecting;
  }

  async namespaces(): Promise<string[]> {
    const { AttributeIds, VariableIds } = this.ua;
    const dv = await this.session.read({
      nodeId: `ns=0;i=${VariableIds.Server_NamespaceArray}`,
      attributeId: AttributeIds.Value,
    });
    if (dv.statusCode.value !== 0) throw new Error(`reading the namespace array: ${dv.statusCode.name}`);
    return [...((dv.value.value as string[] | null) ?? [])];
  }

  async meta(nodeIds: readonly string[]): Promise<NodeMeta[]> {
    const { AttributeIds, makeBrowsePath } = this.ua;
    const attrs = [AttributeIds.DataType, AttributeIds.ValueRank, AttributeIds.UserAccessLevel];
    const ids = nodeIds.map((n) => this.id(n));
    const values = await this.readAll(
      ids.flatMap((nodeId) => attrs.map((attributeId) => ({ nodeId, attributeId }))),
    );
    const { translate } = await this.limits();
    const paths = await this.chunked(
      ids.map((n) => makeBrowsePath(n, ".EngineeringUnits")),
      translate,
      (part) => this.session.translateBrowsePath(part),
    );
    const euNodes = paths.map((p) => p.targets?.[0]?.targetId?.toString());
    const euRead = euNodes.filter((n): n is string => !!n);
    const euValues =
      euRead.length > 0
        ? await this.readAll(euRead.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })))
        : [];
    let eu = 0;
    const out: NodeMeta[] = [];
    for (let i = 0; i < nodeIds.length; i++) {
      const [dt, rank, access] = values.slice(i * 3, i * 3 + 3);
      const meta: NodeMeta = {
        dataType: await this.builtIn(dt?.value.value),
        isArray: typeof rank?.value.value === "number" && rank.value.value >= 1,
        writable: typeof access?.value.value === "number" && (access.value.value & 2) !== 0,
      };
      if (euNodes[i]) {
        const text = (euValues[eu++]?.value.value as { displayName?: { text?: string } } | null)?.displayName
          ?.text;
        if (text) meta.unit = text;
      }
      out.push(meta);
    }
    return out;
  }

  /** The built-in type behind a DataType node id (enumerations and subtypes resolve to their base). */
  private async builtIn(dataTypeId: Opcua.NodeId | undefined): Promise<number> {
    if (!dataTypeId) return 0;
    if (dataTypeId.namespace === 0 && typeof dataTypeId.value === "number" && dataTypeId.value <= 25)
      return dataTypeId.value;
    return this.session.getBuiltInDataType(dataTypeId).catch(() => 0);
  }

  write(nodeId: string, value: Opcua.Variant): Promise<Opcua.StatusCode> {
    return this.session.write({
      nodeId: this.id(nodeId),
      attributeId: this.ua.AttributeIds.Value,
      value: { value },
    });
  }

  async browse(nodeId: string): Promise<BrowsedNode[]> {
    const { BrowseDirection, NodeClass } = this.ua;
    const children = await this.browseAll(nodeId);
    if (children.length === 0) return [];
    const ids = children.map((c) => c.nodeId.toString());
    const vars = ids.filter((_, i) => children[i]!.nodeClass === NodeClass.Variable);
    const metas = vars.length > 0 ? await this.meta(vars) : [];
    const grand = await this.session.browse(
      ids.map((id) => ({
        nodeId: id,
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: "HierarchicalReferences",
        includeSubtypes: true,
      })),
    );
    return children.map((c, i) => {
      const node: BrowsedNode = {
        nodeId: ids[i]!,
        browseName: c.browseName.toString(),
        displayName: c.displayName.text ?? c.browseName.name ?? ids[i]!,
        nodeClass: NodeClass[c.nodeClass] ?? String(c.nodeClass),
        hasChildren: (grand[i]?.references?.length ?? 0) > 0,
      };
      const m = c.nodeClass === NodeClass.Variable ? metas[vars.indexOf(ids[i]!)] : undefined;
      if (m) Object.assign(node, { dataType: m.dataType, isArray: m.isArray, writable: m.writable });
      return node;
    });
  }

  private async browseAll(nodeId: string): Promise<Opcua.ReferenceDescription[]> {
    const { BrowseDirection } = this.ua;
    const first = await this.session.browse({
      nodeId: this.id(nodeId),
      browseDirection: BrowseDirection.Forward,
      referenceTypeId: "HierarchicalReferences",
      includeSubtypes: true,
      resultMask: 63,
    });
    if (first.statusCode.value !== 0) throw new Error(`browse ${nodeId}: ${first.statusCode.name}`);
    const refs = [...(first.references ?? [])];
    let cp = first.continuationPoint;
    for (let n = 0; cp && n < 100; n++) {
      const next = await this.session.browseNext(cp, false);
      refs.push(...(next.references ?? []));
      cp = next.continuationPoint;
    }
    return refs;
  }

  async subscriptionLimits(): Promise<SubscriptionLimits> {
    const { itemsPerSubscription, subscriptionsPerSession } = await this.limits();
    return { itemsPerSubscription, subscriptionsPerSession };
  }

  async subscribe(spec: SubscriptionSpec, listener: SubscriptionListener): Promise<SubscriptionHandle> {
    const ua = this.ua;
    const keepAliveCount = 10;
    const sub: ClientSubscription = await this.session.createSubscription2({
      requestedPublishingInterval: spec.publishingIntervalMs,
      requestedMaxKeepAliveCount: keepAliveCount,
      requestedLifetimeCount: keepAliveCount * 6,
      maxNotificationsPerPublish: spec.maxNotificationsPerPublish,
      publishingEnabled: true,
      priority: 1,
    });
    let closing = false;
    const ended = (reason: string) => {
      if (!closing) listener.ended(reason);
    };
    sub.on("keepalive", () => listener.alive());
    sub.on("received_notifications", () => listener.alive());
    sub.on("terminated", () => ended("subscription terminated"));
    sub.on("internal_error", (err: Error) => ended(`subscription internal error: ${err.message}`));
    sub.on("status_changed", (status: Opcua.StatusCode) => {
      if (status.value !== 0) ended(`subscription status ${status.name}`);
    });
    const results: string[][] = [];
    for (const [g, group] of spec.groups.entries()) {
      const p = group.params;
      const filter = p.deadband
        ? new ua.DataChangeFilter({
            trigger: ua.DataChangeTrigger.StatusValue,
            deadbandType: p.deadband.mode === "percent" ? ua.DeadbandType.Percent : ua.DeadbandType.Absolute,
            deadbandValue: p.deadband.value,
          })
        : null;
      const items = group.nodeIds.map((n) => ({ nodeId: this.id(n), attributeId: ua.AttributeIds.Value }));
      // create() returns before the server answered; the items' results are known at "initialized".
      const monitored = ua.ClientMonitoredItemGroup.create(
        sub,
        items,
        {
          samplingInterval: p.samplingIntervalMs,
          queueSize: p.queueSize,
          discardOldest: p.discardOldest,
          filter,
        },
        ua.TimestampsToReturn.Both,
      );
      await new Promise<void>((resolve, reject) => {
        monitored.once("initialized", () => resolve());
        monitored.once("terminated", (err?: Error) =>
          reject(err ?? new Error("monitored items terminated while being created")),
        );
      });
      // Each item's CreateMonitoredItems result; a refused one never reports a change.
      results.push(monitored.monitoredItems.map((m) => m.statusCode?.name ?? "Good"));
      monitored.on("changed", (_item, value, index) => listener.data(g, index, value));
    }
    return {
      keepAliveMs: () => sub.publishingInterval * sub.maxKeepAliveCount,
      publishingIntervalMs: () => sub.publishingInterval,
      results,
      close: () => {
        closing = true;
        return sub.terminate().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    this.closing.now = true;
    // A session whose channel is gone cannot be closed on the server: wait for it a little only.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.session.close().catch(() => undefined),
      new Promise((r) => {
        timer = setTimeout(r, 2000);
      }),
    ]);
    clearTimeout(timer);
    await this.client.disconnect().catch(() => undefined);
    await this.certificates.dispose().catch(() => undefined);
  }
}
