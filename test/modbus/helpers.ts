/** Builds Modbus adapter instances for integration tests, with a test context from the SDK kit. */

import { createModbus, type ModbusInstance } from "../../adapters/modbus/adapter.js";
import type { ModbusClient } from "../../adapters/modbus/client.js";
import modbusAdapter from "../../adapters/modbus/index.js";
import type { ModbusPoint } from "../../adapters/modbus/points.js";
import type { Clock } from "../../src/sdk/index.js";
import { createTestContext } from "../../src/sdk/testing.js";

/**
 * An instance over `settings` and `points`, with helpers to find a point and read by id.
 * `reconnect` is the device's reconnect backoff, as the core would hand it over.
 */
export function modbus(
  settings: unknown,
  points: unknown[],
  options: { clock?: Clock; client?: ModbusClient; reconnect?: { minMs: number; maxMs: number } } = {},
) {
  const tc = createTestContext(modbusAdapter, {
    settings,
    points,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.reconnect ? { reconnect: options.reconnect } : {}),
  });
  const adapter: ModbusInstance = options.client
    ? createModbus(tc.ctx, () => options.client!)
    : (modbusAdapter.create(tc.ctx) as ModbusInstance);
  const all = tc.ctx.points as ModbusPoint[];
  const point = (id: string) => {
    const p = all.find((x) => x.id === id);
    if (!p) throw new Error(`no point ${id}`);
    return p;
  };
  /**
   * Reads every point; returns id → sample, with the samples the adapter emitted during the read
   * (points of requests that timed out), as the core would publish them.
   */
  const readAll = async (pts: ModbusPoint[] = all) => {
    const from = tc.emitted.length;
    const samples = await adapter.read(pts);
    return Object.fromEntries([...tc.emitted.slice(from), ...samples].map((s) => [s.point, s]));
  };
  return { ...tc, adapter, point, all, readAll };
}

export { until } from "../helpers/until.js";
