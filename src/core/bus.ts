/**
 * The in-process reading bus. `publish` is synchronous and only ever appends to bounded queues, so
 * adapters are never blocked by a consumer; each consumer drains its own queue on its own async
 * loop, so a stalled consumer delays nobody else. Overflow is decided per consumer and counted,
 * per consumer (its stats) and per device of the dropped reading (`drops`, a device's
 * `droppedReadings`).
 */
import type { Reading } from "../schema/reading.js";
import { DropLedger } from "./drops.js";
import { readingMatcher } from "./filter.js";
import { Ring } from "./ring.js";
import type { Consumer, ConsumerOptions, ConsumerStats, ReadingBus, ReadingFilter } from "./types.js";

const DEFAULT_CAPACITY = 10_000;
const DEFAULT_MAX_BATCH = 1_000;

/** Called when a consumer's handler throws or rejects; the consumer keeps running. */
export type ConsumerErrorHook = (consumer: string, error: unknown) => void;

class QueueConsumer implements Consumer {
  private readonly queue: Ring<Reading>;
  private readonly matches: ((r: Reading) => boolean) | undefined;
  private readonly maxBatch: number;
  private draining = false;
  private closed = false;
  /** Past half its capacity since `onBehind` was last called. */
  private behind = false;
  private delivered = 0;
  private dropped = 0;
  private errors = 0;

  constructor(
    private readonly options: ConsumerOptions,
    private readonly onError: ConsumerErrorHook,
    private readonly onClose: (c: QueueConsumer) => void,
    private readonly drops: DropLedger,
  ) {
    this.queue = new Ring(options.capacity ?? DEFAULT_CAPACITY);
    this.matches = readingMatcher(options.filter);
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  offer(readings: readonly Reading[]): void {
    if (this.closed) return;
    const dropOldest = this.options.overflow !== "drop-newest";
    // Drops are counted per device in runs (a batch is usually one device's): one ledger update per run.
    let runDevice = "";
    let run = 0;
    for (const r of readings) {
      if (this.matches && !this.matches(r)) continue;
      if (this.queue.push(r)) continue;
      this.dropped++;
      let lost = r;
      if (dropOldest) {
        lost = this.queue.shift() ?? r;
        this.queue.push(r);
      }
      if (lost.device !== runDevice) {
        this.drops.add(runDevice, this.options.name, run);
        runDevice = lost.device;
        run = 0;
      }
      run++;
    }
    this.drops.add(runDevice, this.options.name, run);
    const half = this.queue.capacity / 2;
    if (this.queue.length > half) {
      if (!this.behind && this.options.onBehind) {
        this.behind = true;
        this.options.onBehind();
      }
    } else this.behind = false;
    if (!this.draining && this.queue.length > 0) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const batch = this.queue.take(this.maxBatch);
      let sync = true;
      try {
        const result = this.options.handle(batch);
        if (result) {
          sync = false;
          await result;
        }
        this.delivered += batch.length;
      } catch (error) {
        this.errors++;
        this.onError(this.options.name, error);
      }
      // A synchronous handler yields between batches: timers and I/O (polls, the API) get their turn.
      if (sync && this.queue.length > 0) await new Promise<void>((r) => setImmediate(r));
    }
    this.draining = false;
  }

  stats(): ConsumerStats {
    return {
      name: this.options.name,
      capacity: this.queue.capacity,
      overflow: this.options.overflow ?? "drop-oldest",
      queued: this.queue.length,
      delivered: this.delivered,
      dropped: this.dropped,
      errors: this.errors,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.clear();
    this.onClose(this);
  }
}

/** Latest reading per device and point. Updated synchronously on publish. */
class LatestValues {
  private readonly byDevice = new Map<string, Map<string, Reading>>();

  /** Stores each reading as its point's latest; a batch is usually one device's, so its map is looked up once. */
  putAll(readings: readonly Reading[]): void {
    let device: string | undefined;
    let points: Map<string, Reading> | undefined;
    for (const r of readings) {
      if (r.device !== device || !points) {
        device = r.device;
        points = this.byDevice.get(device);
        if (!points) {
          points = new Map();
          this.byDevice.set(device, points);
        }
      }
      points.set(r.point, r);
    }
  }

  get(device: string, point: string): Reading | undefined {
    return this.byDevice.get(device)?.get(point);
  }

  list(filter?: ReadingFilter): Reading[] {
    const out: Reading[] = [];
    const devices = filter?.devices?.length ? filter.devices : [...this.byDevice.keys()];
    const points = filter?.points?.length ? new Set(filter.points) : undefined;
    for (const d of devices) {
      for (const r of this.byDevice.get(d)?.values() ?? []) if (!points || points.has(r.point)) out.push(r);
    }
    return out;
  }

  forget(device: string): void {
    this.byDevice.delete(device);
  }
}

/** The bus implementation, with `forget` for devices removed from config. */
export class Bus implements ReadingBus {
  private readonly cache = new LatestValues();
  private readonly subscribers = new Set<QueueConsumer>();
  /** Readings dropped by consumers, per device and consumer (devices add their held samples). */
  readonly drops = new DropLedger();

  constructor(private readonly onError: ConsumerErrorHook = () => {}) {}

  publish(readings: readonly Reading[]): void {
    if (readings.length === 0) return;
    this.cache.putAll(readings);
    for (const s of this.subscribers) s.offer(readings);
  }

  subscribe(options: ConsumerOptions): Consumer {
    const consumer = new QueueConsumer(options, this.onError, (c) => this.subscribers.delete(c), this.drops);
    this.subscribers.add(consumer);
    return consumer;
  }

  latest(filter?: ReadingFilter): Reading[] {
    return this.cache.list(filter);
  }

  /** Latest reading of one point. */
  latestOf(device: string, point: string): Reading | undefined {
    return this.cache.get(device, point);
  }

  /** Drops a removed device's cached values and its drop counts. */
  forget(device: string): void {
    this.cache.forget(device);
    this.drops.forget(device);
  }

  consumers(): ConsumerStats[] {
    return [...this.subscribers].map((s) => s.stats());
  }
}

/** Creates an empty bus. */
export function createBus(onError?: ConsumerErrorHook): Bus {
  return new Bus(onError);
}
