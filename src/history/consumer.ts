/**
 * Feeds the history store from the reading bus. The store writes synchronously, so the consumer's
 * bounded queue is what absorbs a slow disk: when it is full the oldest queued readings are dropped,
 * and the drops show in `bus.consumers()` under the name `history`.
 */
import type { Logger } from "pino";
import type { ReadingBus } from "../core/types.js";
import type { PointRetention } from "./retention.js";
import type { HistoryStore } from "./store.js";

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

/** Subscribes `store` to `bus`. `close()` unsubscribes (queued readings are discarded); it does not close the store. */
export function attachHistory(
  bus: ReadingBus,
  store: Pick<HistoryStore, "append">,
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
      store.append(batch.filter((r) => pointRetention(r.device, r.point) !== 0));
    },
  });
  log.debug({ capacity: consumer.stats().capacity }, "history attached to the bus");
  return { close: () => consumer.close() };
}
