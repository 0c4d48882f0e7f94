/** Shared bits of the OPC UA integration tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
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
