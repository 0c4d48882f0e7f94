/**
 * History as the service runs it: the store opened in the data directory in a worker thread, fed
 * from the bus, with per-point retention taken from the current device config.
 */
import { resolve } from "node:path";
import type { Logger } from "pino";
import type { ReadingBus } from "../core/types.js";
import type { PointConfig } from "../sdk/point.js";
import { HistoryClient } from "./client.js";
import { type HistoryConfig, type PointHistory, resolveHistoryConfig } from "./config.js";
import { attachHistory } from "./consumer.js";
import type { SweepResult } from "./retention.js";
import { historyStoreOptions } from "./store.js";
import type { HistoryReader, HistoryStats } from "./types.js";

type DeviceList = readonly { id: string; points: readonly PointConfig<Record<string, unknown>>[] }[];

/** A running history: the read side the HTTP route uses, and what the service manages. */
export interface History extends HistoryReader {
  /** Counters of the store (rejects while its worker is down). */
  stats(): Promise<HistoryStats>;
  /** Enforces retention now (the timer does it every `sweepIntervalMs`). */
  sweep(): Promise<SweepResult>;
  /** Takes the per-point retention of a new device list (after a reload). */
  setDevices(devices: DeviceList): void;
  /** Stops storing, lets the append in flight finish, closes the file and ends the worker. */
  close(): Promise<void>;
}

/** Per-point retention (ms) keyed `device\0point`, for the points that set one. */
export function retentionOf(devices: DeviceList): Map<string, number> {
  const map = new Map<string, number>();
  for (const d of devices)
    for (const p of d.points) {
      const ms = (p.history as PointHistory | undefined)?.retentionMs;
      if (ms !== undefined) map.set(`${d.id}\u0000${p.id}`, ms);
    }
  return map;
}

/** Starts history unless `mode: off`; rejects when the store file cannot be used. */
export async function startHistory(
  config: HistoryConfig | undefined,
  dataDir: string,
  bus: ReadingBus,
  devices: DeviceList,
  log: Logger,
  options: { restartMs?: number } = {},
): Promise<History | undefined> {
  const resolved = resolveHistoryConfig(config);
  if (resolved.mode === "off") return undefined;
  let retention = retentionOf(devices);
  const client = await HistoryClient.open(
    resolve(dataDir, resolved.file),
    {
      store: historyStoreOptions(resolved),
      retention,
      ...options,
    },
    log.child({ module: "history" }),
  );
  const attached = attachHistory(
    bus,
    client,
    {
      // The main thread's copy of the map: readings of points with retention 0 are not even posted.
      pointRetention: (device, point) => retention.get(`${device}\u0000${point}`),
      capacity: resolved.queueCapacity,
      maxBatch: resolved.maxBatch,
    },
    log,
  );
  return {
    query: (device, point, query) => client.query(device, point, query),
    stats: () => client.stats(),
    sweep: () => client.sweep(),
    setDevices(list) {
      retention = retentionOf(list);
      client.setRetention(retention);
    },
    async close() {
      attached.close();
      await client.close();
    },
  };
}
