/**
 * Feeds the history store from the reading bus. With the store in its worker thread, `append`
 * returns a promise the bus awaits before it hands over the next batch: one append is in flight at
 * a time, and the consumer's bounded queue is what absorbs a slow disk. When it is full the oldest
 * queued readings are dropped, and the drops show in `bus.consumers()` under the name `history`.
 */
import type { Logger } from "pino";
import type { ReadingBus } from "../core/types.js";
import type { Reading } from "../schema/reading.js";
import type { PointRetention } from "./retention.js";

/** Options of {@link attachHistory}. */
export interface AttachHistoryOptions {
  /** Per-point retention in ms; points where it returns 0 are not stored. Called per reading: keep it O(1). */
  pointRetention: PointRetention;
  /** Queue bound in readings; default 50,000. */
  capacity?: number;
  /** Most readings per transaction; default 1,000. */
  maxBatch?: number;
}

/** The bus consumer name, as `bus.consumers()` shows it. */
export const HISTORY_CONSUMER = "history";

/** What the consumer writes to: the store itself, or its worker's client (async). Never throws or rejects. */
export interface HistoryAppender {
  append(readings: readonly Reading[]): number | Promise<number>;
}

/** Subscribes `store` to `bus`. `close()` unsubscribes (queued readings are discarded); it does not close the store. */
export function attachHistory(
  bus: ReadingBus,
  store: HistoryAppender,
  options: AttachHistoryOptions,
  log: Logger,
): { close(): void } {
  const { pointRetention } = options;
  const consumer = bus.subscribe({
    name: HISTORY_CONSUMER,
    capacity: options.capacity ?? 50_000,
    overflow: "drop-oldest",
    maxBatch: options.maxBatch ?? 1_000,
    handle(batch) {
      const kept = batch.filter((r) => pointRetention(r.device, r.point) !== 0);
      if (kept.length === 0) return;
      const done = store.append(kept);
      if (typeof done !== "number") return done.then(() => undefined);
    },
  });
  log.debug({ capacity: consumer.stats().capacity }, "history attached to the bus");
  return { close: () => consumer.close() };
}
