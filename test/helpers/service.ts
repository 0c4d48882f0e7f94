/**
 * A real gateway (simulator devices) with its full HTTP app and three tokens, for API tests.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { opcuaAdapter } from "../../adapters/opcua/index.js";
import { AuditLog } from "../../src/core/audit.js";
import { type DeviceSpec, sharedDirOf } from "../../src/core/device.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import { type AppOptions, buildApp } from "../../src/http/app.js";
import { TokenStore } from "../../src/http/auth/tokens.js";

export interface ApiFixture {
  gateway: Gateway;
  app: FastifyInstance;
  audit: AuditLog;
  tokens: { viewer: string; operator: string; admin: string };
  close(): Promise<void>;
}

/** Simulator device `press-1` with a read-only and two writable points. */
export function pressDevice(overrides: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    id: "press-1",
    type: "simulator",
    pollIntervalMs: 50,
    reconnect: { minMs: 50, maxMs: 200 },
    connection: {},
    points: [
      { id: "temp", type: "float64", generator: { kind: "sine", amplitude: 5, offset: 40 } },
      {
        id: "setpoint",
        type: "float64",
        access: "readwrite",
        min: 0,
        max: 200,
        generator: { kind: "constant", value: 120 },
      },
      {
        id: "raw",
        type: "int16",
        access: "readwrite",
        scale: 0.1,
        generator: { kind: "constant", value: 100 },
      },
    ],
    ...overrides,
  } as DeviceSpec;
}

export async function apiFixture(
  devices: DeviceSpec[] = [pressDevice()],
  more: Partial<AppOptions> = {},
): Promise<ApiFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), "tagbridge-api-"));
  const log = pino({ level: "silent" });
  const gateway = new Gateway({ id: "api-gw", dataDir, devices, registry: new AdapterRegistry(), log });
  const store = TokenStore.memory();
  const tokens = {
    viewer: store.create("vic", "viewer"),
    operator: store.create("olga", "operator"),
    admin: store.create("ada", "admin"),
  };
  const audit = new AuditLog(join(dataDir, "audit.jsonl"));
  const certificates = [{ type: "opcua", store: opcuaAdapter.certificates!(sharedDirOf(dataDir, "opcua")) }];
  const app = await buildApp({
    gateway,
    logger: log,
    auth: { tokens: store },
    audit,
    certificates,
    // Config routes are exercised for real in test/api/config.test.ts; here they only need to exist.
    config: { masked: () => ({}), reload: async () => ({ ok: true }), edit: async () => ({ ok: true }) },
    registry: new AdapterRegistry(),
    north: { status: () => [] },
    history: { query: async () => ({ kind: "samples", samples: [], truncated: false }) },
    metrics: gateway.metrics.registry,
    docs: true,
    ...more,
  });
  gateway.start();
  return {
    gateway,
    app,
    audit,
    tokens,
    async close() {
      await app.close();
      await gateway.stop();
    },
  };
}
