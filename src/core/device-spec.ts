/**
 * What a device runner is built from and shares with the rest of the gateway, and the refusals
 * its requests can end in.
 */
import { join } from "node:path";
import type { Logger } from "pino";
import type { Clock } from "../sdk/adapter.js";
import type { PointConfig } from "../sdk/point.js";
import type { Bus } from "./bus.js";
import type { GatewayMetrics } from "./metrics.js";
import type { Sequence } from "./sequence.js";

/** The directory shared by every device of an adapter type (`AdapterContext.sharedDir`). */
export function sharedDirOf(dataDir: string, type: string): string {
  return join(dataDir, "adapters", type);
}

/** A device's validated config, defaults applied, as the runtime needs it. */
export interface DeviceSpec {
  id: string;
  type: string;
  description?: string;
  enabled?: boolean;
  pollIntervalMs?: number;
  pollPhase?: "grid" | "spread";
  reconnect?: { minMs: number; maxMs: number };
  connection: Record<string, unknown>;
  points: PointConfig<Record<string, unknown>>[];
}

/** What a device runner shares with the rest of the gateway. */
export interface DeviceDeps {
  gateway: string;
  bus: Bus;
  sequence: Sequence;
  log: Logger;
  clock: Clock;
  metrics: GatewayMetrics;
  dataDir: string;
}

/** Raised by `write` and `browse` when the gateway refuses a request, so the API can map it to a code. */
export class RequestRefused extends Error {
  constructor(
    readonly reason:
      | "NotWritable"
      | "InvalidValue"
      | "NotConnected"
      | "UnknownDevice"
      | "UnknownPoint"
      | "Unsupported",
    message: string,
  ) {
    super(message);
  }
}
