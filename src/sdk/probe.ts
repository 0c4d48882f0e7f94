/**
 * A dry run of an adapter's `create()` on a schema-valid device: `create()` does no I/O, so config
 * validation calls it and reports what it refuses, with the device's path. That is what makes
 * `validate` accept exactly what `run` can build, for built-in and third-party adapters alike.
 */
import pino from "pino";
import type { AdapterContext, AdapterDefinition, ConfigProblem } from "./adapter.js";
import type { PointConfig } from "./point.js";

const silent = pino({ level: "silent" });
const noCounter = { inc: () => {} };
const noGauge = { set: () => {} };

/** A device as validation holds it: connection settings and points, defaults applied. */
export interface ProbedDevice {
  id?: string;
  connection: unknown;
  points: readonly PointConfig<Record<string, unknown>>[];
  reconnect?: { minMs: number; maxMs: number };
}

/**
 * Problems of a schema-valid device that the adapter's `check()` finds, or that it throws, or
 * that `create()` throws; each at a path relative to the device. Empty when the device builds.
 */
export function buildProblems(definition: AdapterDefinition, device: ProbedDevice): ConfigProblem[] {
  let problems: ConfigProblem[];
  try {
    problems =
      definition.check?.({ connection: device.connection as never, points: device.points as never }) ?? [];
  } catch (error) {
    return [{ path: [], message: `the ${definition.type} adapter's check() failed: ${text(error)}` }];
  }
  if (problems.length > 0) return problems;
  const ctx: AdapterContext<never, never> = {
    gateway: "validate",
    device: device.id ?? "device",
    log: silent,
    settings: device.connection as never,
    points: device.points as never,
    emit: () => {},
    setState: () => {},
    markStale: () => {},
    reconnect: device.reconnect ?? { minMs: 1000, maxMs: 30000 },
    clock: { now: () => Date.now() },
    metrics: { counter: () => noCounter, gauge: () => noGauge },
    dataDir: "",
    sharedDir: "",
  };
  try {
    definition.create(ctx);
    return [];
  } catch (error) {
    return [{ path: [], message: `the ${definition.type} adapter cannot build this device: ${text(error)}` }];
  }
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
