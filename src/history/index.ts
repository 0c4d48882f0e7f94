/**
 * History as the service runs it: the store opened in the data directory, fed from the bus, with
 * per-point retention taken from the current device config.
 */
import { resolve } from "node:path";
import type { Logger } from "pino";
import type { ReadingBus } from "../core/types.js";
import type { PointConfig } from "../sdk/point.js";
import { type HistoryConfig, type PointHistory, resolveHistoryConfig } from "./config.js";
import { attachHistory } from "./consumer.js";
import { HistoryStore, historyStoreOptions } from "./store.js";

/** A running history. */
export interface History {
  store: HistoryStore;
  /** Takes the per-point retention of a new device list (after a reload). */
  setDevices(
    devices: readonly { id: string; points: readonly PointConfig<Record<string, unknown>>[] }[],
  ): void;
  close(): void;
}

/** Starts history unless `mode: off`. */
export function startHistory(
  config: HistoryConfig | undefined,
  dataDir: string,
  bus: ReadingBus,
  devices: readonly { id: string; points: readonly PointConfig<Record<string, unknown>>[] }[],
  log: Logger,
): History | undefined {
  const resolved = resolveHistoryConfig(config);
  if (resolved.mode === "off") return undefined;
  let retention = new Map<string, number>();
  const pointRetention = (device: string, point: string) => retention.get(`${device}\u0000${point}`);
  const setDevices: History["setDevices"] = (list) => {
    const next = new Map<string, number>();
    for (const d of list)
      for (const p of d.points) {
        const ms = (p.history as PointHistory | undefined)?.retentionMs;
        if (ms !== undefined) next.set(`${d.id}\u0000${p.id}`, ms);
      }
    retention = next;
  };
  setDevices(devices);
  const store = HistoryStore.open(
    resolve(dataDir, resolved.file),
    historyStoreOptions(resolved, pointRetention),
    log.child({ module: "history" }),
  );
  const attached = attachHistory(
    bus,
    store,
    { pointRetention, capacity: resolved.queueCapacity, maxBatch: resolved.maxBatch },
    log,
  );
  return {
    store,
    setDevices,
    close() {
      attached.close();
      store.close();
    },
  };
}
