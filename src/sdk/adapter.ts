/**
 * The adapter contract: what an integrator implements and what the core promises in return.
 * Everything here is part of the public SDK (`tagbridge/sdk`).
 */
import type { Logger } from "pino";
import type { Static, TObject } from "typebox";
import type { Quality } from "../schema/reading.js";
import type { SampleValue } from "../schema/values.js";
import type { PointConfig } from "./point.js";

/** What an adapter can do. The adapter object has exactly the methods its capabilities promise. */
export type Capability = "read" | "subscribe" | "write" | "browse";

/**
 * One value of one point, as an adapter hands it to the core. The core turns it into a Reading:
 * it stamps gateway, device, seq, receivedAt and protocol, checks the value against the point's
 * type, and applies scale, offset, deadband and report-by-exception.
 */
export interface Sample {
  /** Point id, as in config. */
  point: string;
  /** Raw value; `null` when none could be read (then quality is not `good`). */
  value: SampleValue;
  /** Defaults to `good`. */
  quality?: Quality;
  /** Protocol detail behind a non-good quality: an exception name, `Timeout`, a status code name. */
  status?: string;
  /** Timestamp the device put on the value (epoch ms, Date or ISO string), if it gives one. */
  sourceTs?: number | Date | string;
  /** Source address, when it differs from the point's configured `address`. */
  address?: string;
  /** Engineering unit reported by the device; config's `unit` wins when both exist. */
  unit?: string;
}

/** Connection state an adapter reports; the core adds `connecting` and `stopped` itself. */
export type ReportedState = "connected" | "degraded" | "disconnected";

/**
 * Every state a device can be in. `faulted`: the adapter refused to build the device, or a failure
 * escaped its code (the reason says which); the core restarts it after its longest reconnect delay
 * (a device that could not be built, on the next configuration change).
 */
export type DeviceState = "connecting" | ReportedState | "faulted" | "stopped";

/** A monotonic-enough clock the core injects, so tests can control time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** A counter scoped to one device; exported as `tagbridge_adapter_<name>_total{adapter,device}`. */
export interface Counter {
  inc(by?: number): void;
}

/** A gauge scoped to one device; exported as `tagbridge_adapter_<name>{adapter,device}`. */
export interface Gauge {
  set(value: number): void;
}

/** Metrics an adapter may add; names are snake_case and get the adapter/device labels. */
export interface Metrics {
  counter(name: string, help: string): Counter;
  gauge(name: string, help: string): Gauge;
}

/** Everything an adapter instance gets from the core. There is no other way to reach the core. */
export interface AdapterContext<C = unknown, P = unknown> {
  /** Gateway id. */
  readonly gateway: string;
  /** Device id this instance serves. */
  readonly device: string;
  /** pino logger bound to `{adapter, device}`. */
  readonly log: Logger;
  /** The device's `connection` settings, validated against the adapter's connection schema. */
  readonly settings: C;
  /** The device's points, validated, defaults applied. */
  readonly points: readonly PointConfig<P>[];
  /**
   * Hands pushed samples to the core (subscriptions, MQTT messages). Never blocks, never throws;
   * ignored once `stop()` has been called.
   */
  emit(samples: readonly Sample[]): void;
  /**
   * Reports a connection state change, e.g. from a library's own reconnect events. `disconnected`
   * publishes every point once as bad/Disconnected; the core does not restart an adapter that
   * reported it, since the library is reconnecting, and does not poll it until it reports
   * `connected` again. On `connected`, pushed points still bad/Disconnected become
   * uncertain/WaitingForData until their next sample; polled points are read at once.
   */
  setState(state: ReportedState, reason?: string): void;
  /**
   * Tells the core that pushed values are no longer being refreshed although the connection is up
   * (e.g. an OPC UA subscription whose keep-alives stopped). The core republishes the last value of
   * each listed point (every pushed point when omitted) that is good as `uncertain` with
   * `status: "Stale"`; the next sample of a point ends it. Polled points need no call: the core
   * marks them stale itself when their reads stop delivering for the point's `staleAfterMs`.
   */
  markStale(points?: readonly string[]): void;
  /**
   * The device's reconnect backoff (`reconnect` in config, defaults applied): the core uses it
   * between connection attempts; an adapter may pace its own recovery probes by it (e.g. a Modbus
   * unit that stopped answering on a shared line).
   */
  readonly reconnect: { readonly minMs: number; readonly maxMs: number };
  /** Injected clock. */
  readonly clock: Clock;
  /** Per-device metrics. */
  readonly metrics: Metrics;
  /** A directory this device may keep files in (certificates, caches); created on first use by the adapter. */
  readonly dataDir: string;
  /**
   * A directory shared by every device of this adapter type in the gateway (e.g. an OPC UA client
   * certificate and its trust lists); created on first use by the adapter.
   */
  readonly sharedDir: string;
}

/** Result of a write the device confirmed. */
export interface WriteResult {
  /** Protocol status of the write, e.g. an OPC UA status code name. */
  status?: string;
}

/**
 * Thrown by an adapter's `write()` to refuse a write before anything is sent to the device, so the
 * client gets a refusal it can act on instead of a device error. `InvalidValue` (HTTP 422): the value
 * passed the core's checks (type, range, `min`/`max`, scaling) but this protocol cannot encode it for
 * this point, e.g. a float32 register asked to hold 1e39, or a string longer than its registers.
 * `NotConnected` (HTTP 503): the device is connected but the part of it the point lives on is not
 * answering now (e.g. a Modbus unit demoted after consecutive timeouts), so the write is not held.
 * Any other error thrown by `write()` means the device (or the library) failed the write.
 */
export class WriteRefused extends Error {
  constructor(
    /** Why the write was refused; the core maps it to the API's error code. */
    readonly reason: "InvalidValue" | "NotConnected",
    message: string,
  ) {
    super(message);
    this.name = "WriteRefused";
  }
}

/** One node of a browsable address space. */
export interface BrowseNode {
  /** Address to use in a point's config, or to browse further. */
  id: string;
  /** Display name. */
  name: string;
  /** The protocol's own name of the node, when it differs from the display name (OPC UA BrowseName). */
  browseName?: string;
  /** The protocol's data type name of a variable (e.g. OPC UA `Double`). */
  dataType?: string;
  /** e.g. `Object`, `Variable`, `Folder`. */
  kind: string;
  /** Point type a variable would have, when known. */
  type?: string;
  /** Whether the node can be read or written. */
  access?: "read" | "readwrite";
  hasChildren: boolean;
}

/**
 * A running adapter instance, bound to one device.
 *
 * Lifecycle: `create()` does no I/O; `start()` connects and may be called again after a failure
 * (the core retries it with backoff, calling `stop()` in between); `stop()` is idempotent, may be
 * called while `start()` is still running (and should make it settle), and nothing may be emitted
 * after it resolves; `read()` is never called concurrently for one device, and never before `start()`
 * resolved or after `stop()` was called.
 */
export interface Adapter<P = unknown> {
  /** Connects. Throwing means the device is unreachable; the core retries with backoff. */
  start(): Promise<void>;
  /** Disconnects and releases everything. Idempotent. */
  stop(): Promise<void>;
  /**
   * Reads points (capability `read`). One failing point yields a sample with quality `bad` and a
   * status; throw only for connection-wide failures, which make the core reconnect.
   */
  read?(points: readonly PointConfig<P>[]): Promise<Sample[]>;
  /**
   * Writes a value to a point with `access: readwrite` (capability `write`); resolves once the device
   * confirmed. The core has checked the value against the point's type, `min`/`max` and undone its
   * scaling (64-bit integers arrive as `bigint`, never `null`); throw {@link WriteRefused} for a value
   * the protocol cannot encode for this point, before sending anything.
   */
  write?(point: PointConfig<P>, value: unknown): Promise<WriteResult>;
  /** Lists the children of a node, or of the root when `node` is omitted (capability `browse`). */
  browse?(node?: string): Promise<BrowseNode[]>;
  /**
   * How the adapter reads its points, as JSON for `GET /api/v1/devices/:device/plan` (e.g. Modbus
   * block requests, OPC UA subscriptions). Optional; pure, no I/O.
   */
  plan?(): unknown;
}

/** A problem an adapter's `check` found, at a path relative to the device, e.g. `["points", 2, "address"]`. */
export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

/** Where and how a simulated device is started. */
export interface SimulatorOptions {
  /** TCP port; 0 or omitted picks a free one (or the protocol's usual demo port, as the adapter documents). */
  port?: number;
  /** A directory the simulator may keep files in (e.g. its certificate). */
  dataDir: string;
}

/** A running simulated device. */
export interface RunningSimulator {
  /** The address a device config connects to, e.g. `mqtt://127.0.0.1:1884`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** One certificate of a trust list. */
export interface CertificateInfo {
  /** The id to trust or remove it by (e.g. a SHA-1 thumbprint in hex). */
  thumbprint: string;
  subject: string;
  issuer: string;
  /** Expiry, ISO 8601. */
  validTo: string;
}

/** Peer certificates an adapter keeps trust lists of (e.g. OPC UA server certificates). */
export interface CertificateStore {
  /** Trusted certificates, and rejected ones waiting for a decision. */
  list(): Promise<{ trusted: CertificateInfo[]; rejected: CertificateInfo[] }>;
  /** Moves a rejected certificate to the trusted list; rejects when there is none with this thumbprint. */
  trust(thumbprint: string): Promise<CertificateInfo>;
  /** Removes a certificate from either list; false when there was none. */
  remove(thumbprint: string): Promise<boolean>;
}

/**
 * An adapter type: a plain object exported by a built-in adapter folder or a third-party package.
 * `C` and `P` are the TypeBox schemas of the connection settings and of the adapter's own point settings.
 */
export interface AdapterDefinition<C extends TObject = TObject, P extends TObject = TObject> {
  /** Adapter type name used in config (`type:`) and as the Reading's `protocol`. Lowercase. */
  readonly type: string;
  /** One line shown in `GET /api/v1/adapters` and docs. */
  readonly description: string;
  /** SDK versions this adapter works with, as a semver range, e.g. `^1.0.0`. */
  readonly sdk: string;
  /** Schema of the device's `connection` object. Every field has a `description`. */
  readonly connectionSchema: C;
  /** Schema of the adapter's own point fields, merged flat with the core point fields. */
  readonly pointSchema: P;
  /** What the adapter can do; the adapter object has exactly the matching methods. */
  readonly capabilities: readonly Capability[];
  /**
   * Whether the core polls this point with `read()`. Default: every point when the adapter can
   * `read`, none otherwise. Return false for points the adapter pushes itself (subscriptions).
   */
  polled?(point: PointConfig<Static<P>>): boolean;
  /**
   * Optional: checks a schema-valid device for what a schema cannot express (address syntax, fields
   * needed together). Pure. Called when config is loaded, so its problems are reported with every
   * other error, with their paths, and nothing starts.
   */
  check?(device: { connection: Static<C>; points: readonly PointConfig<Static<P>>[] }): ConfigProblem[];
  /** Creates an instance for one device. No I/O here. */
  create(ctx: AdapterContext<Static<C>, Static<P>>): Adapter<Static<P>>;
  /**
   * Optional: starts a simulated device of this protocol, for `tagbridge demo` and
   * `tagbridge simulate <type>`. Load heavy modules inside, so the definition stays cheap to import.
   */
  simulate?(options: SimulatorOptions): Promise<RunningSimulator>;
  /**
   * Optional: the peer certificate trust lists kept in the adapter type's shared directory (see
   * `AdapterContext.sharedDir`), served at `/api/v1/<type>/certificates`.
   */
  certificates?(sharedDir: string): CertificateStore;
}

/** Declares an adapter with full type inference of its settings; returns the definition as is. */
export function defineAdapter<C extends TObject, P extends TObject>(
  definition: AdapterDefinition<C, P>,
): AdapterDefinition<C, P> {
  return definition;
}
