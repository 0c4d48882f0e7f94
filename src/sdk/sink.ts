/**
 * The sink contract: what an integrator implements to publish readings northbound (a broker, a
 * database, a historian, a cloud hub) and what the core promises in return. It mirrors the adapter
 * contract: a plain definition object with a TypeBox schema and capabilities, and `create(ctx)`.
 * Everything here is part of the public SDK (`tagbridge/sdk`).
 *
 * The core owns everything sinks have in common, once for every sink: the point selection, the
 * bounded bus queue, the durable store-and-forward buffer, replay order, backpressure (diverting
 * to the buffer when the sink falls behind), publish timeouts and retries, the counters, the
 * status in the API and the metrics. A sink only connects, publishes and says whether it can.
 */
import type { Logger } from "pino";
import type { Static, TObject } from "typebox";
import type { Reading } from "../schema/reading.js";
import type { Clock, ConfigProblem, Metrics } from "./adapter.js";

/**
 * What a sink can do.
 * - `ack`: a resolved `publish()` means the peer acknowledged every reading in it (a broker's
 *   PUBACK, a JetStream ack, an HTTP 2xx), so the core drops its buffered copy. A sink without it
 *   resolves once the readings were handed to its connection; they can be lost with it.
 * - `replay`: readings replayed from the buffer after an outage are marked as historical in what
 *   the peer receives (a Sparkplug `is_historical` metric, a `historical` field), so consumers can
 *   tell a backlog from live values.
 * - `batch`: the sink sends many readings per message, by size and time; it then has `batching`,
 *   and the core groups live readings with a batcher instead of calling `publish()` per bus batch.
 */
export type SinkCapability = "ack" | "replay" | "batch";

/**
 * The core fields of every sink's config object (`north:` entry), next to which the sink's own
 * settings sit: a settings field may not be named like one. The core's north config declares
 * exactly these (src/north/config.ts), and the kit checks definitions against this list.
 */
export const CORE_SINK_FIELDS: readonly string[] = [
  "id",
  "type",
  "description",
  "enabled",
  "select",
  "buffer",
  "queueCapacity",
  "publishTimeoutMs",
];

/** The connection state a sink reports. */
export type SinkState = "connected" | "disconnected";

/**
 * How the core groups and encodes readings for a batching sink: a batch is handed over when full
 * or lingered, already encoded (each reading is written once, straight into the batch's bytes).
 */
export interface SinkBatchPolicy {
  /** `device`: a batch holds readings of one device; `gateway`: of any devices. */
  by: "device" | "gateway";
  /** Most readings in one batch. */
  maxReadings: number;
  /** Most bytes of one batch's payload (a single larger reading goes alone). */
  maxBytes: number;
  /** Longest a reading waits for its batch to fill, in ms; 0 sends whatever arrived. */
  lingerMs: number;
  /**
   * The payload format, both published schemas of the core: `readings` (default), a JSON array of
   * Readings; `compact`, a compact Reading batch v1 (`config/reading-batch.v1.schema.json`).
   */
  encoding?: "readings" | "compact";
}

/** A small durable key-value store of one sink (e.g. a Sparkplug bdSeq), kept next to its buffer. */
export interface SinkStateStore {
  get(key: string): string | undefined;
  /** Stored durably soon after the call; never throws (a failure is logged). */
  set(key: string, value: string): void;
}

/** Everything a sink instance gets from the core. There is no other way to reach the core. */
export interface SinkContext<S = unknown> {
  /** Gateway id (fills `{gateway}` in topics and subjects). */
  readonly gateway: string;
  /** Sink id from config. */
  readonly sink: string;
  /** pino logger bound to `{sink, sinkType}`. */
  readonly log: Logger;
  /**
   * The sink's own settings (its config entry without the core fields), validated against its
   * `settingsSchema`. Loaded from a config file they have the schema's defaults applied; a sink
   * still handles absent optional fields (the test context does not apply defaults).
   */
  readonly settings: S;
  /**
   * Reports whether publishing can succeed now. The core publishes only while `connected`, and
   * buffers while `disconnected`; `reason` is shown as the sink's last error. Call it from the
   * library's connection events; it never throws.
   */
  setState(state: SinkState, reason?: string): void;
  /** True when a reading is in the sink's selection (`select:` in config). */
  selects(reading: Reading): boolean;
  /** The latest reading of every selected point of these devices (all when omitted), e.g. for a birth certificate. */
  latest(devices?: readonly string[]): Reading[];
  /** A device's state (`connected`, `degraded`, `disconnected`, `faulted`, `stopped`, …), undefined when unknown. */
  deviceState(device: string): string | undefined;
  /** Durable key-value state of this sink. */
  readonly state: SinkStateStore;
  /**
   * The sink's `publishTimeoutMs` (core config, default 10 s): a publish not settled by then is
   * given up by the core and its readings buffered. A sink that queues calls internally drops the
   * ones still unsent by then, instead of sending them after the core has buffered them.
   */
  readonly publishTimeoutMs: number;
  /** Injected clock. */
  readonly clock: Clock;
  /** Metrics of this sink; exported with the `{sink}` label. */
  readonly metrics: Metrics;
  /** A directory this sink may keep files in (certificates, caches); created on first use by the sink. */
  readonly dataDir: string;
}

/** One batch the core hands a batching sink: readings of one device (or of the gateway) in seq order, encoded. */
export interface SinkBatch {
  /** The device id when grouped `by: device`, "" when grouped by gateway. */
  readonly key: string;
  /** How many readings it holds. */
  readonly count: number;
  /** UTF-8 JSON in the policy's `encoding`; send it as is. The core may reuse its memory once `released()` says so. */
  readonly payload: Buffer;
}

/**
 * A running sink.
 *
 * Lifecycle: `create()` does no I/O. `start()` begins connecting in the background and resolves
 * without waiting for the peer: a peer that is down is not an error, the sink reports
 * `disconnected` and keeps reconnecting on its own (paced; a library's reconnect loop is fine when
 * it waits between attempts). `stop()` is idempotent, disconnects cleanly (a status or death
 * message where the protocol has one) within a few seconds even when the peer does not answer,
 * and nothing is published after it resolves. Publishes still pending when `stop()` is called
 * settle before it resolves: delivered ones resolve, the rest reject (the core keeps their
 * readings in the buffer, so rejecting what is in doubt is always safe). The core calls `stop()`
 * after its own publishes have settled or been given up, and never publishes after calling it.
 *
 * Publishing: `publish()` is called only while the sink reports `connected`, with readings in
 * seq order (per point, and overall for one sink). Readings never repeat within one call, but
 * may repeat across calls: delivery is at-least-once, and a consumer tells duplicates apart by
 * `seq`. Resolving says the readings were delivered (with `ack`: acknowledged by the peer);
 * rejecting (or not settling within the sink's `publishTimeoutMs`) makes the core keep them in the
 * durable buffer and send them again later, in order. A publish may still be running when the core
 * gives it up after a timeout and starts the next one.
 */
export interface Sink {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Publishes readings; `historical` is true for readings replayed from the buffer. */
  publish(readings: readonly Reading[], options: { historical: boolean }): Promise<void>;
  /**
   * Optional: true when a publish called while earlier ones are still unacknowledged goes out
   * after them all the same (one connection, messages handed to it in call order). The core's
   * replay then keeps the next page out while the one before is acknowledged, instead of leaving
   * the connection idle between pages. Absent: one replayed page is published at a time.
   */
  readonly pipelined?: boolean;
  /** Present exactly when the instance has the `batch` capability (see `capabilitiesFor`). */
  readonly batching?: {
    readonly policy: SinkBatchPolicy;
    /** Publishes whole batches, one message each, and resolves once all are delivered. */
    publish(batches: readonly SinkBatch[], options: { historical: boolean }): Promise<void>;
    /**
     * Optional: true when the sink holds no reference to any payload it was given and that was
     * delivered (nothing left in a socket's write queue), so the core may reuse their memory.
     * Absent: payload memory is never reused.
     */
    released?(): boolean;
  };
}

/**
 * A sink type: a plain object exported by a built-in sink file or a third-party package. `S` is the
 * TypeBox schema of the sink's own settings, which sit in the sink's config object next to the core
 * sink fields (`id`, `type`, `description`, `enabled`, `select`, `buffer`, `queueCapacity`,
 * `publishTimeoutMs`).
 */
export interface SinkDefinition<S extends TObject = TObject> {
  /** Sink type name used in config (`type:`). Lowercase. */
  readonly type: string;
  /** One line shown in docs and the API. */
  readonly description: string;
  /** SDK versions this sink works with, as a semver range, e.g. `^1.0.0`. */
  readonly sdk: string;
  /** Schema of the sink's own fields. Every field has a `description`; none may reuse a core field name. */
  readonly settingsSchema: S;
  /**
   * What the sink can do; `batching` exists exactly when an instance has `batch`. With
   * `capabilitiesFor`, what the type can do at most (some settings give less).
   */
  readonly capabilities: readonly SinkCapability[];
  /**
   * Optional: the capabilities of an instance with these settings, when they depend on them (an
   * MQTT sink acknowledges only with QoS 1, batches only with `payload: batch`); each one listed in
   * `capabilities`. Pure. Absent: every instance has all of `capabilities`.
   */
  capabilitiesFor?(settings: Static<S>): readonly SinkCapability[];
  /**
   * Optional: checks schema-valid settings for what a schema cannot express (e.g. a topic template
   * that uses a field a grouping cannot fill). Pure; paths are relative to the sink's config object.
   */
  check?(settings: Static<S>): ConfigProblem[];
  /** Creates an instance. No I/O here. */
  create(ctx: SinkContext<Static<S>>): Sink;
}

/** Declares a sink with full type inference of its settings; returns the definition as is. */
export function defineSink<S extends TObject>(definition: SinkDefinition<S>): SinkDefinition<S> {
  return definition;
}
