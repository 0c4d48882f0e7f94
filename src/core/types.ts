/**
 * Interfaces between the gateway runtime and its consumers (HTTP service, north sinks, CLI).
 */
import type { DeviceCounters } from "../schema/device-counters.js";
import type { Reading } from "../schema/reading.js";
import type { BrowseNode, DeviceState } from "../sdk/adapter.js";
import type { CorePoint } from "../sdk/point.js";
import type { DropLedger } from "./drops.js";
import type { WriteOutcome } from "./write.js";

/** Declared once, as a TypeBox schema, in src/schema/device-counters.ts. */
export type { DeviceCounters } from "../schema/device-counters.js";

/** What to do when a consumer's queue is full. */
export type OverflowPolicy = "drop-oldest" | "drop-newest";

/** Selects readings by device and point id; an absent or empty list matches everything. */
export interface ReadingFilter {
  devices?: readonly string[];
  points?: readonly string[];
}

/** How a bus consumer wants to be fed. */
export interface ConsumerOptions {
  /** Shown in stats and logs, e.g. `ws:127.0.0.1:53211` or `north:mqtt`. */
  name: string;
  /** Queue bound in readings. Default 10,000. */
  capacity?: number;
  /** Default `drop-oldest`: the freshest data wins. */
  overflow?: OverflowPolicy;
  /** Only readings matching it are queued. */
  filter?: ReadingFilter;
  /** Most readings handed to one `handle` call. Default 1,000. */
  maxBatch?: number;
  /** Called with batches in publish order, never concurrently. A returned promise is awaited before the next batch. */
  handle(batch: Reading[]): void | Promise<void>;
  /**
   * Called synchronously from `publish` when the queue passes half its capacity (once per
   * crossing), so a consumer stuck in `handle` can give up what it waits for before readings drop.
   */
  onBehind?(): void;
}

/** Counters of one consumer. */
export interface ConsumerStats {
  name: string;
  capacity: number;
  overflow: OverflowPolicy;
  queued: number;
  delivered: number;
  dropped: number;
  errors: number;
}

/** A subscription to the bus. */
export interface Consumer {
  stats(): ConsumerStats;
  /** Unsubscribes; queued readings are discarded. Idempotent. */
  close(): void;
}

/** In-process fan-out of readings with a latest-value cache. */
export interface ReadingBus {
  /** Hands readings to the cache and every consumer's queue. Synchronous, never blocks. */
  publish(readings: readonly Reading[]): void;
  subscribe(options: ConsumerOptions): Consumer;
  /** Latest reading per device and point, optionally filtered. */
  latest(filter?: ReadingFilter): Reading[];
  /** Stats of every current consumer. */
  consumers(): ConsumerStats[];
  /**
   * Readings lost per device and cause, shown as each device's `droppedReadings`. The bus counts its
   * consumers' queue drops here; a consumer that drops readings further on (a store's own queue, a
   * buffer's bound, a slow client's socket) adds them under its consumer name, so they show there too.
   */
  readonly drops: DropLedger;
}

/** A device as the API shows it. */
export interface DeviceInfo {
  id: string;
  type: string;
  description?: string;
  enabled: boolean;
  state: DeviceState;
  /** Why the device is in this state, e.g. the last connection error. */
  stateReason?: string;
  /** ISO time of the last state change. */
  stateSince: string;
  pointCount: number;
  counters: DeviceCounters;
}

/** A point as the API shows it: its core config and its latest reading. */
export interface PointInfo extends CorePoint {
  address?: string;
  latest?: Reading;
}

/** What the HTTP service and other consumers may see of a running gateway. */
export interface GatewayView {
  readonly id: string;
  readonly bus: ReadingBus;
  devices(): DeviceInfo[];
  device(id: string): DeviceInfo | undefined;
  /** Points of a device, undefined when the device does not exist. */
  points(device: string): PointInfo[] | undefined;
  /** True once every enabled device has made its first connection attempt. */
  ready(): boolean;
  /** The adapter's read plan (undefined when it has none); throws `RequestRefused` for an unknown device. */
  plan(device: string): unknown;
  /**
   * Writes a point (value in engineering units); resolves once the device confirmed, rejects with
   * `RequestRefused` when the gateway refuses it, or with the adapter's error.
   */
  write(device: string, point: string, value: unknown): Promise<WriteOutcome>;
  /** Children of a node of a device's address space; rejects with `RequestRefused` when refused. */
  browse(device: string, node?: string): Promise<BrowseNode[]>;
}
