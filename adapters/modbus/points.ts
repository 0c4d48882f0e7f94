/**
 * Compiles the device's points once, at create(): resolves each address, builds its decoder, and
 * plans the block requests of a poll. Every problem of every point is reported in one Error.
 */

import { AddressError, formatAddress } from "../../protocols/modbus/address.js";
import { type Decoder, makeDecoder } from "../../protocols/modbus/codec.js";
import { type PlanLimits, type PlannedRequest, planRequests } from "../../protocols/modbus/plan.js";
import { type PointSpec, resolvePoint } from "../../protocols/modbus/spec.js";
import { isBitTable } from "../../protocols/modbus/types.js";
import type { PointConfig } from "../../src/sdk/index.js";
import type { ModbusPointFields, ModbusSettings } from "./config.js";

/** A Modbus point: core fields plus the Modbus fields. */
export type ModbusPoint = PointConfig<ModbusPointFields>;

/** A point ready to read: its spec, its decoder (register tables) and its canonical address. */
export interface CompiledPoint {
  point: ModbusPoint;
  spec: PointSpec;
  decode: Decoder | undefined;
  /** e.g. `hr:10` or, for a unit other than the connection's, `3/hr:10`. */
  address: string;
}

/** One request of a poll and the points it serves, with their positions in the read's result. */
export interface BatchRequest {
  request: PlannedRequest;
  points: CompiledPoint[];
  /** Index of each served point in the `points` argument of `read()`. */
  slots: number[];
}

/** Resolves every point; throws one Error listing each point that cannot be read. */
export function compilePoints(
  points: readonly ModbusPoint[],
  settings: ModbusSettings,
): Map<string, CompiledPoint> {
  const unitId = settings.unitId ?? 1;
  const out = new Map<string, CompiledPoint>();
  const errors: string[] = [];
  for (const point of points) {
    try {
      const spec = resolvePoint(point, unitId);
      const decode = isBitTable(spec.table) ? undefined : makeDecoder(spec);
      const address = formatAddress(
        spec.table,
        spec.address,
        spec.unitId === unitId ? undefined : spec.unitId,
      );
      out.set(point.id, { point, spec, decode, address });
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      errors.push(`point ${point.id}: ${err.message}`);
    }
  }
  if (errors.length > 0) throw new Error(`modbus: invalid points\n  ${errors.join("\n  ")}`);
  return out;
}

/** The plan limits from the connection settings. */
export function limitsOf(settings: ModbusSettings): PlanLimits {
  return {
    maxRegisters: settings.maxRegistersPerRequest ?? 125,
    maxBits: settings.maxBitsPerRequest ?? 2000,
    maxGapRegisters: settings.maxGapRegisters ?? 16,
    maxGapBits: settings.maxGapBits ?? 64,
  };
}

/** Plans the requests that read `points` (compiled in `compiled`). */
export function batchOf(
  points: readonly ModbusPoint[],
  compiled: ReadonlyMap<string, CompiledPoint>,
  limits: PlanLimits,
): BatchRequest[] {
  const list = points.map((p) => {
    const c = compiled.get(p.id);
    if (!c) throw new Error(`modbus: unknown point ${p.id}`);
    return c;
  });
  return planRequests(
    list.map((c) => c.spec),
    limits,
  ).map((request) => ({ request, points: request.items.map((i) => list[i]!), slots: request.items }));
}

const FUNCTION: Readonly<Record<string, string>> = {
  coil: "FC1",
  discrete: "FC2",
  holding: "FC3",
  input: "FC4",
};

/** A plan as JSON for the API: the requests of each poll interval, with the points they serve. */
export function describePlan(
  points: readonly ModbusPoint[],
  compiled: ReadonlyMap<string, CompiledPoint>,
  limits: PlanLimits,
): unknown {
  const byInterval = new Map<number | undefined, ModbusPoint[]>();
  for (const p of points) {
    const list = byInterval.get(p.pollIntervalMs) ?? [];
    list.push(p);
    byInterval.set(p.pollIntervalMs, list);
  }
  const groups = [...byInterval].map(([interval, pts]) => ({
    pollIntervalMs: interval ?? "device",
    requests: batchOf(pts, compiled, limits).map(({ request, points: served }) => ({
      unitId: request.unitId,
      table: request.table,
      function: FUNCTION[request.table],
      address: request.address,
      count: request.count,
      points: served.map((c) => c.point.id),
    })),
  }));
  return { limits, requestCount: groups.reduce((n, g) => n + g.requests.length, 0), groups };
}
