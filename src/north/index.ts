/**
 * North sinks: starts each configured sink (its definition's `create(ctx)`, a bus consumer and the
 * durable buffer in `<dataDir>/north/<id>.sqlite`, driven by a {@link SinkRunner}) and exposes
 * their status and Prometheus gauges.
 */
import { join } from "node:path";
import type { Logger } from "pino";
import { Gauge, type Registry } from "prom-client";
import type { ReadingBus } from "../core/types.js";
import { SinkBuffer } from "./buffer.js";
import { type AnySinkConfig, duplicateSinkIds, NORTH_DEFAULTS } from "./config.js";
import { sinkContext } from "./context.js";
import { SinkRegistry } from "./registry.js";
import { SinkRunner, type SinkStatus } from "./sink.js";

export type { AnySinkConfig, NorthConfig, SinkConfig } from "./config.js";
export { SinkRegistry } from "./registry.js";
export { type SinkStatus, SinkStatusSchema } from "./sink.js";
export { NorthConfigSchema, SinkConfigSchema } from "./sink-schema.js";

/** What the gateway passes to {@link startNorth}. */
export interface NorthOptions {
  /** Gateway id: fills {gateway} in topics and subjects, prefixes NATS msg ids. */
  gateway: string;
  /** The gateway's data directory; buffers live in `<dataDir>/north/`. */
  dataDir: string;
  bus: ReadingBus;
  log: Logger;
  /** The gateway's prom-client registry; gauges `tagbridge_north_*{sink}` are added to it. */
  registry?: Registry;
  /**
   * Device state (`connected`, `degraded`, `disconnected`, `stopped`, …). Sparkplug sinks use it
   * for DDEATH/DBIRTH; without it a device counts as dead when a batch of its readings all carry
   * `status: "Disconnected"`.
   */
  deviceState?: (device: string) => string | undefined;
  /** The sink types (built-ins and loaded packages); the built-ins when absent. */
  sinks?: Pick<SinkRegistry, "get" | "list">;
}

/** Running north sinks. */
export interface North {
  status(): SinkStatus[];
  /** Stops every sink; buffered readings stay on disk for the next start. */
  close(): Promise<void>;
}

/**
 * Starts the enabled sinks. Throws on duplicate ids, a sink type no definition is known for, or an
 * unusable buffer file.
 */
export async function startNorth(sinks: readonly AnySinkConfig[], options: NorthOptions): Promise<North> {
  const dup = duplicateSinkIds(sinks);
  if (dup.length > 0) throw new Error(`duplicate north sink id(s): ${dup.join(", ")}`);
  const types = options.sinks ?? new SinkRegistry();
  const runners: SinkRunner[] = [];
  try {
    for (const config of sinks) {
      if (config.enabled === false) continue;
      const definition = types.get(config.type);
      if (!definition)
        throw new Error(
          `north sink '${config.id}': unknown sink type '${config.type}' (known: ${types
            .list()
            .map((d) => d.type)
            .join(", ")})`,
        );
      const log = options.log.child({ sink: config.id, sinkType: config.type });
      const b = config.buffer ?? {};
      const buffer = await SinkBuffer.open(join(options.dataDir, "north", `${config.id}.sqlite`), {
        maxBytes: Math.floor((b.maxSizeMb ?? NORTH_DEFAULTS.maxSizeMb) * 1024 * 1024),
        maxAgeMs: b.maxAgeMs ?? NORTH_DEFAULTS.maxAgeMs,
        overflow: b.overflow ?? NORTH_DEFAULTS.overflow,
        syncIntervalMs: b.syncIntervalMs ?? NORTH_DEFAULTS.syncIntervalMs,
        log,
        onLost: (device) => options.bus.drops.add(device, `north:${config.id}:buffer`),
      });
      const runner = new SinkRunner(config, {
        bus: options.bus,
        buffer,
        log,
        create: (setState) =>
          definition.create(
            sinkContext({
              gateway: options.gateway,
              config,
              dataDir: options.dataDir,
              bus: options.bus,
              log,
              store: buffer,
              setState,
              ...(options.deviceState ? { deviceState: options.deviceState } : {}),
              ...(options.registry ? { registry: options.registry } : {}),
            }),
          ),
      });
      runners.push(runner);
      await runner.start();
    }
  } catch (error) {
    await Promise.allSettled(runners.map((r) => r.close()));
    throw error;
  }
  const status = () => runners.map((r) => r.status());
  if (options.registry) registerGauges(options.registry, status);
  return {
    status,
    async close() {
      await Promise.allSettled(runners.map((r) => r.close()));
    },
  };
}

const GAUGES: [name: string, help: string, pick: (s: SinkStatus) => number][] = [
  ["tagbridge_north_connected", "1 while the north sink can publish", (s) => (s.connected ? 1 : 0)],
  ["tagbridge_north_published", "Readings published and acknowledged since start", (s) => s.published],
  ["tagbridge_north_buffered", "Readings in the store-and-forward buffer", (s) => s.buffered],
  [
    "tagbridge_north_dropped",
    "Readings the north sink lost (buffer bounds, queue overflow)",
    (s) => s.dropped,
  ],
  [
    "tagbridge_north_oldest_buffered_age_seconds",
    "Age of the oldest buffered reading",
    (s) => (s.oldestBufferedAgeMs ?? 0) / 1000,
  ],
];

function registerGauges(registry: Registry, status: () => SinkStatus[]): void {
  for (const [name, help, pick] of GAUGES) {
    registry.removeSingleMetric(name); // a restarted north (config reload) replaces the old gauges
    new Gauge({
      name,
      help,
      labelNames: ["sink", "type"],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of status()) this.set({ sink: s.id, type: s.type }, pick(s));
      },
    });
  }
}
