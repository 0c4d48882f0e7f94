/**
 * A dry run of an adapter's `create()` on a schema-valid device: `create()` does no I/O, so config
 * validation calls it and reports what it refuses, with the device's path. That is what makes
 * `validate` accept exactly what `run` can build, for built-in and third-party adapters alike.
 */
import pino from "pino";
import type { AdapterContext, AdapterDefinition, ConfigProblem } from "./adapter.js";
import { DEFAULT_RECONNECT, type PointConfig } from "./point.js";

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

/** How a schema-valid device fared with its adapter: refused by check(), or built, or a throw from either. */
export type ProbeOutcome =
  | { kind: "refused"; problems: ConfigProblem[] }
  | { kind: "built" }
  | { kind: "check threw"; error: unknown }
  | { kind: "create threw"; error: unknown };

/**
 * Runs the adapter's `check()` on a schema-valid device and, when it finds nothing, a dry run of
 * `create()`: what validation does, and what the conformance kit holds adapters to (check() never
 * throws on schema-valid input; whatever it accepts, create() builds).
 */
export function probeDevice(definition: AdapterDefinition, device: ProbedDevice): ProbeOutcome {
  let problems: ConfigProblem[];
  try {
    problems =
      definition.check?.({ connection: device.connection as never, points: device.points as never }) ?? [];
  } catch (error) {
    return { kind: "check threw", error };
  }
  if (problems.length > 0) return { kind: "refused", problems };
  try {
    definition.create(probeContext(device));
    return { kind: "built" };
  } catch (error) {
    return { kind: "create threw", error };
  }
}

/**
 * Problems of a schema-valid device that the adapter's `check()` finds, or that it throws, or
 * that `create()` throws; each at a path relative to the device. Empty when the device builds.
 */
export function buildProblems(definition: AdapterDefinition, device: ProbedDevice): ConfigProblem[] {
  const outcome = probeDevice(definition, device);
  switch (outcome.kind) {
    case "built":
      return [];
    case "refused":
      return outcome.problems;
    case "check threw":
      return [
        { path: [], message: `the ${definition.type} adapter's check() failed: ${text(outcome.error)}` },
      ];
    case "create threw":
      return [
        {
          path: [],
          message: `the ${definition.type} adapter cannot build this device: ${text(outcome.error)}`,
        },
      ];
  }
}

/** A context that does nothing: create() may keep it, but the instance is never started. */
function probeContext(device: ProbedDevice): AdapterContext<never, never> {
  return {
    gateway: "validate",
    device: device.id ?? "device",
    log: silent,
    settings: device.connection as never,
    points: device.points as never,
    emit: () => {},
    setState: () => {},
    markStale: () => {},
    reconnect: device.reconnect ?? DEFAULT_RECONNECT,
    clock: { now: () => Date.now() },
    metrics: { counter: () => noCounter, gauge: () => noGauge },
    dataDir: "",
    sharedDir: "",
  };
}

/** The message of a thrown value. */
export function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
