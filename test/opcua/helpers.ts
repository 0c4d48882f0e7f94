/** Shared bits of the OPC UA integration tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { createOpcua, type OpcuaInstance } from "../../adapters/opcua/adapter.js";
import type { OpcuaPointFields, OpcuaSettings } from "../../adapters/opcua/config.js";
import opcuaAdapter from "../../adapters/opcua/index.js";
import { createTestContext, type TestContext } from "../../src/sdk/testing.js";

/** A fresh shared directory (PKI) under the OS temp dir. */
export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `tagbridge-${prefix}-`));

/** An adapter instance on a test context whose shared dir is `sharedDir` (so one client certificate serves a file). */
export function instance(
  settings: Record<string, unknown>,
  points: unknown[],
  sharedDir: string,
): { adapter: OpcuaInstance; tc: TestContext<OpcuaSettings, OpcuaPointFields> } {
  const tc = createTestContext(opcuaAdapter, { settings, points });
  const ctx = { ...tc.ctx, sharedDir };
  return { adapter: createOpcua(ctx), tc };
}

/** Polls `check` every 50 ms until it returns a value other than undefined, at most `ms`. */
export async function waitFor<T>(check: () => T | undefined, ms = 8000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const devices: OpcuaInstance[] = [];
/** Stops every instance `deviceOn` made. */
export async function stopDevices(): Promise<void> {
  for (const a of devices.splice(0)) await a.stop();
}

/**
 * Device `id` on `endpointUrl` (one polled point `x` at `ns=1;s=x`) with the OPC UA shared dir
 * `shared` and a fresh data dir of its own, reconnect backoff 100–400 ms; its log lines (debug and
 * above) are kept in `logs`.
 */
export function deviceOn(endpointUrl: string, id: string, settings: Record<string, unknown>, shared: string) {
  const tc = createTestContext(opcuaAdapter, {
    device: id,
    settings: { endpointUrl, ...settings },
    points: [{ id: "x", type: "float64", address: "ns=1;s=x", mode: "poll" }],
    reconnect: { minMs: 100, maxMs: 400 },
  });
  const logs: { level: number; time: number; msg: string; reason?: string; retryInMs?: number }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const ctx = { ...tc.ctx, sharedDir: shared, log: pino({ level: "debug" }, sink) };
  const adapter = createOpcua(ctx);
  devices.push(adapter);
  return { adapter, tc, ctx, logs };
}
