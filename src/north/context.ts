/**
 * The one place a {@link SinkContext} is built: everything a sink gets from the core. The runner
 * supplies `setState` (it reports to the runner); the rest comes from the gateway (bus, device
 * state, metrics registry) and the sink's buffer (durable state in its meta table).
 */
import { join } from "node:path";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ReadingBus } from "../core/types.js";
import type { Reading } from "../schema/reading.js";
import type { SinkContext, SinkState } from "../sdk/sink.js";
import { type AnySinkConfig, CORE_SINK_FIELDS_SET, globMatcher, NORTH_DEFAULTS } from "./config.js";
import { sinkMetrics } from "./sink-metrics.js";

/** What the core knows about one sink when it builds its context. */
export interface SinkContextOptions {
  gateway: string;
  /** The sink's whole config entry (core fields and its own settings). */
  config: AnySinkConfig;
  /** The gateway's data directory: the sink's own files go under `<dataDir>/north/<id>/`. */
  dataDir: string;
  bus: ReadingBus;
  /** Logger bound to `{sink, sinkType}`. */
  log: Logger;
  /** The sink's durable key-value store: the buffer's meta table. */
  store: { meta(key: string): string | undefined; setMeta(key: string, value: string): void };
  setState(state: SinkState, reason?: string): void;
  deviceState?: (device: string) => string | undefined;
  registry?: Registry;
}

/** True when a reading is in the entry's selection (`select:`); everything when there is none. */
export function selectionOf(config: Pick<AnySinkConfig, "select">): (r: Reading) => boolean {
  const devices = globMatcher(config.select?.devices);
  const points = globMatcher(config.select?.points);
  return (r) => devices(r.device) && points(r.point);
}

/** The sink's own settings: its entry without the core fields. */
export function settingsOf(config: AnySinkConfig): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!CORE_SINK_FIELDS_SET.has(k)) settings[k] = v;
  return settings;
}

/** Builds the context of one sink. */
export function sinkContext(o: SinkContextOptions): SinkContext<Record<string, unknown>> {
  const { config, bus, store, log } = o;
  const selects = selectionOf(config);
  const deviceState = o.deviceState;
  return {
    gateway: o.gateway,
    sink: config.id,
    log,
    settings: settingsOf(config),
    setState(state, reason) {
      try {
        o.setState(state, reason);
      } catch (error) {
        log.error({ err: error }, "north sink state change failed");
      }
    },
    selects,
    latest: (devices) =>
      bus.latest(devices === undefined ? undefined : { devices: [...devices] }).filter(selects),
    deviceState: (device) => deviceState?.(device),
    state: {
      get: (key) => store.meta(key),
      set: (key, value) => store.setMeta(key, value),
    },
    publishTimeoutMs: config.publishTimeoutMs ?? NORTH_DEFAULTS.publishTimeoutMs,
    clock: { now: () => Date.now() },
    metrics: sinkMetrics(o.registry, config.id, config.type),
    // Not created here: a sink that keeps files creates it when it first needs it.
    dataDir: join(o.dataDir, "north", config.id),
  };
}
