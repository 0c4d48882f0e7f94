/**
 * Property (issue 15, item 1): `validate` accepts exactly what `run` can start. Device
 * configurations are generated from each built-in adapter's TypeBox schemas (core device and point
 * fields merged with the adapter's, as `deviceSchemaFor` builds them), with realistic addresses
 * and, now and then, a value of the wrong kind. Whatever `parseConfig` accepts is built and started
 * by a real Gateway with the built-in registry and the process safety net `run` installs: every
 * device must build, finish its first connection attempt, be in a named state with a reason unless
 * connected, and stop in time; nothing may escape the devices. Whatever it refuses must name a path.
 *
 * Nothing is ever reached but 127.0.0.1 on a port nothing listens on, and serial paths under /tmp
 * that do not exist: every address-like field has an override below.
 *
 * Found by it, and refused by validate since: an MQTT `password` without `username` (mqtt.js
 * refuses every connect) and Sparkplug ids holding `/`, `+` or `#` (start() refuses them), both
 * accepted and then disconnected forever; with the dry run of create() taken out of probe.ts,
 * `{type: modbus, connection: {}}` (tcp without host), which run could not build.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATA_TYPES } from "../protocols/modbus/types.js";
import { parseConfig } from "../src/config/load.js";
import type { DeviceSpec } from "../src/core/device.js";
import { Gateway } from "../src/core/gateway.js";
import { escapedCounts, installSafetyNet } from "../src/core/guard.js";
import { AdapterRegistry } from "../src/core/registry.js";
import type { DeviceInfo } from "../src/core/types.js";
import { POINT_TYPES } from "../src/schema/reading.js";
import { deviceSchemaFor } from "../src/sdk/point.js";
import { until as waitUntil } from "./helpers/until.js";
import { type Overrides, schemaArbitrary, smallString } from "./schema-arbitrary.js";

/** Runs per adapter: bounded so the whole file stays well under 30 s (OPC UA connects cost the most). */
const RUNS: Record<string, number> = { simulator: 50, modbus: 100, opcua: 50, mqtt: 80 };
/** The first connection attempt of every device must end within this (connect timeouts are ≤ 1 s here). */
const ATTEMPT_DEADLINE_MS = 8_000;
/** Gateway.stop() must resolve within this (a device's stop waits at most 5 s for its start). */
const STOP_DEADLINE_MS = 8_000;

const registry = new AdapterRegistry();
const log = pino({ level: "silent" });
let dataDir: string;
let port: number;

/** A port on 127.0.0.1 that was free a moment ago; nothing here listens on it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "tb-config-property-"));
  port = await freePort();
  installSafetyNet(log);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const missingFile = fc.constantFrom(
  "/tmp/tagbridge-property-no-such-file.pem",
  "/tmp/tagbridge-property/none",
);
const ms = (max: number) => fc.integer({ min: 100, max });

const id = fc.oneof(
  { weight: 15, arbitrary: fc.constantFrom("a", "p1", "temp", "line_1.motor:rpm", "x-y", "b", "c", "d") },
  {
    weight: 15,
    arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/).filter((s) => s.length <= 20),
  },
  { weight: 1, arbitrary: fc.constantFrom("", " a", "a/b", "-x", "é") }, // not ids
);

const modbusAddress = fc.oneof(
  // Registers, which hold every type: mostly well-formed
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom("hr", "holding", "ir", "input"), fc.integer({ min: 0, max: 9999 }))
      .map(([t, n]) => `${t}:${n}`),
  },
  { weight: 3, arbitrary: fc.constantFrom("40001", "30001", "400001", "hr:0x64", "hr:40010", "ir:30002") },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 65535 }) },
  // Anything else: coils, type and byte order suffixes, classic references, garbage
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom("co", "coil", "di", "hr", "ir", "zz"),
        fc.constantFrom("0", "1", "100", "40001", "30001", "65535", "65536", "x"),
        fc.constantFrom(
          "",
          ":float32",
          ":int16",
          ":uint32:CDAB",
          ":string",
          ":DCBA",
          ":int64:ABCDEFGH",
          ":nope",
        ),
      )
      .map(([t, r, rest]) => `${t}:${r}${rest}`),
  },
  { weight: 1, arbitrary: fc.constantFrom("00001", "10001", "465536", "20001", "4000") },
  { weight: 1, arbitrary: smallString(1, 6) },
);

/** Mostly ids a serial line can use (1–247); now and then broadcast 0 or a reserved one. */
const unitId = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 247 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 248, 255) },
);

const nodeId = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "ns=2;s=Line1.Temperature",
      "ns=3;i=1001",
      "i=2258",
      "nsu=http://example.org/UA/;s=Motor",
      "ns=1;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63",
      "ns=1;b=AAEC",
    ),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 5 }), smallString(1, 6))
      .map(([ns, s]) => `ns=${ns};s=${s}`),
  },
  { weight: 1, arbitrary: fc.constantFrom("ns=1;i=12ab", "ns=70000;i=1", "svr=1;i=1", "s=", "ns=1", " i=1") },
  { weight: 1, arbitrary: smallString(1, 6) },
);

const topic = fc.oneof(
  fc.constantFrom(
    "plant/line1/temp",
    "plant/+/temp",
    "plant/#",
    "{line}/motor/{point}",
    "a/#/b",
    "a/{x}{y}",
    "#",
    "+",
  ),
  fc
    .array(fc.constantFrom("a", "b", "+", "#", "{line}", "{l}", "", "$SYS"), { minLength: 1, maxLength: 4 })
    .map((l) => l.join("/")),
  smallString(1, 6),
);

const jsonPath = fc.oneof(
  fc.constantFrom("$", "$.temp", "$.values[0]", "$..v", "$.a.b", "$["),
  fc.stringMatching(/^\$/).filter((s) => s.length <= 12),
);

const MODBUS_TYPES = DATA_TYPES;

/** Per adapter: every field that would reach a host, a port or a file, plus timeouts kept short. */
const OVERRIDES: Record<string, Overrides> = {
  simulator: {
    "connection.startDelayMs": fc.integer({ min: 0, max: 200 }),
  },
  modbus: {
    "connection.host": fc.constant("127.0.0.1"),
    "connection.port": fc.constant(0).map(() => port),
    "connection.serialPort": fc.constantFrom(
      "/tmp/tagbridge-property-no-such-tty",
      "/tmp/tagbridge-property/ttyX",
    ),
    "connection.timeoutMs": ms(500),
    "connection.unitId": unitId,
    "points[].unitId": unitId,
    "points[].address": modbusAddress,
    "points[].type": fc.oneof(
      {
        weight: 9,
        arbitrary: fc.constantFrom(
          ...MODBUS_TYPES,
          ...MODBUS_TYPES.filter((t) => t !== "string").map((t) => `${t}[]`),
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom(...POINT_TYPES) },
    ),
  },
  opcua: {
    "connection.endpointUrl": fc
      .constantFrom("", "/", "/UA/Server")
      .map((p) => `opc.tcp://127.0.0.1:${port}${p}`),
    "connection.connectTimeoutMs": ms(1000),
    "connection.identity.certificateFile": missingFile,
    "connection.identity.privateKeyFile": missingFile,
    "points[].address": nodeId,
  },
  mqtt: {
    "connection.url": fc.constantFrom("mqtt", "mqtts", "ws", "wss").map((s) => `${s}://127.0.0.1:${port}`),
    "connection.connectTimeoutMs": ms(1000),
    "connection.reconnectPeriodMs": ms(500),
    "connection.tls.caFile": missingFile,
    "connection.tls.certFile": missingFile,
    "connection.tls.keyFile": missingFile,
    "points[].topic": topic,
    "points[].commandTopic": topic,
    "points[].path": jsonPath,
    "points[].timestampPath": jsonPath,
    "points[].qualityPath": jsonPath,
  },
};

/** Mostly absent: fields the semantic checks restrict to some point types, so most points stay valid. */
const rarely = (arb: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** Core fields, shaped so that cross-field rules (maxMs ≥ minMs, scale on numbers only) mostly hold. */
const CORE_OVERRIDES: Overrides = {
  id,
  enabled: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.boolean() }),
  "points[].id": id,
  reconnect: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.integer({ min: 10, max: 500 }), fc.integer({ min: 0, max: 1500 }))
        .map(([minMs, extra]) => ({ minMs, maxMs: minMs + extra })),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        { minMs: fc.integer({ min: 0, max: 2000 }), maxMs: fc.integer({ min: 0, max: 2000 }) },
        { requiredKeys: [] },
      ),
    },
  ),
  "points[].scale": rarely(fc.double({ min: -10, max: 10, noNaN: true })),
  "points[].offset": rarely(fc.double({ min: -10, max: 10, noNaN: true })),
  "points[].min": rarely(fc.integer({ min: -100, max: 100 })),
  "points[].max": rarely(fc.integer({ min: -100, max: 100 })),
  "points[].heartbeatMs": rarely(fc.integer({ min: 100, max: 5000 })),
  "points[].deadband": rarely(
    fc.record({
      mode: fc.constantFrom("absolute", "percent"),
      value: fc.double({ min: 0, max: 5, noNaN: true }),
    }),
  ),
};

const NUMERIC = /^(u?int(16|32|64)|float(32|64))$/;

/** A point without the fields the semantic checks refuse on its type or publish mode. */
function tidy(point: unknown, type: string): unknown {
  if (typeof point !== "object" || point === null) return point;
  const p = { ...(point as Record<string, unknown>) };
  if (typeof p.type !== "string" || !NUMERIC.test(p.type)) {
    for (const k of ["scale", "offset", "deadband", "min", "max"]) delete p[k];
  }
  if (p.publish === "always") for (const k of ["deadband", "heartbeatMs"]) delete p[k];
  if (type !== "modbus") return p;
  // Modbus: the fields that only apply to some types (the adapter's check() refuses the others).
  const t = String(p.type);
  if (!t.endsWith("[]")) delete p.count;
  else p.count = Math.min(Number(p.count ?? 2), 8) || 2;
  if (t !== "string") delete p.length;
  else p.length = Math.min(Number(p.length ?? 4), 50) || 4;
  if (t === "bool") p.bit ??= 0;
  else delete p.bit;
  if (typeof p.address === "number") p.table ??= "holding";
  else delete p.table;
  const order = String(p.byteOrder ?? "");
  const bits = /64/.test(t) ? 64 : /32/.test(t) ? 32 : 16;
  if (bits === 16 || (bits === 32 && order.length === 8)) delete p.byteOrder;
  return p;
}

type Need = "ensure" | "as generated" | "remove";

/**
 * Modbus: gives the device what its transport needs (host, or serialPort on rtu), or takes it
 * away: the mistake of issue 15 (`transport: tcp` and no host), which must be refused, not built.
 */
function transportNeeds(device: unknown, type: string, need: Need): unknown {
  const c = (device as { connection?: unknown } | null)?.connection;
  if (type !== "modbus" || need === "as generated" || typeof c !== "object" || c === null) return device;
  const connection = { ...(c as Record<string, unknown>) };
  const field = connection.transport === "rtu" ? "serialPort" : "host";
  if (need === "remove") delete connection[field];
  else connection[field] ??= field === "host" ? "127.0.0.1" : "/tmp/tagbridge-property-no-such-tty";
  return { ...(device as object), connection };
}

function devicesArbitrary(type: string): fc.Arbitrary<unknown[]> {
  const definition = registry.get(type)!;
  const schema = deviceSchemaFor(type, definition.connectionSchema, definition.pointSchema);
  const overrides: Overrides = { ...CORE_OVERRIDES, ...OVERRIDES[type] };
  // A clean device keeps to its schema (junk: 0); a junky one has wrong-kind values here and there.
  const device = (junk: number) => {
    const point = schemaArbitrary(
      (schema.properties.points as { items: unknown }).items,
      { overrides, junk },
      "points[]",
    );
    // Most points keep to the cross-field rules, so that most devices are accepted; some do not.
    const tidied = fc.tuple(point, fc.nat(9)).map(([p, r]) => (r > 0 ? tidy(p, type) : p));
    const points = fc.uniqueArray(tidied, {
      selector: (p) => (p as { id?: unknown } | null)?.id,
      maxLength: 3,
    });
    const d = schemaArbitrary(schema, { overrides: { ...overrides, points }, junk });
    return fc
      .tuple(d, fc.constantFrom("ensure", "ensure", "ensure", "as generated", "remove") as fc.Arbitrary<Need>)
      .map(([d, need]) => transportNeeds(d, type, need));
  };
  return fc.uniqueArray(fc.oneof({ weight: 4, arbitrary: device(0) }, { weight: 1, arbitrary: device(3) }), {
    selector: (d) => (d as { id?: unknown } | null)?.id,
    minLength: 1,
    maxLength: 2,
  });
}

/** Waits for `condition` with a deadline (polling on short timers; never a fixed sleep). */
/** True once `condition` holds, false when it did not within `deadlineMs`. */
const until = (condition: () => boolean, deadlineMs: number): Promise<boolean> =>
  waitUntil("", condition, deadlineMs, undefined, 5).then(
    () => true,
    () => false,
  );

async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why a device may fail its first connection here: nothing listens on the port, the serial path or
 * a configured file does not exist, the simulator's outage window. Any other reason is a
 * configuration `validate` should have refused (the device can never start, whatever the peer).
 */
const ABSENT_PEER = new RegExp(
  [
    "ECONNREFUSED",
    "ECONNRESET",
    "ENOENT",
    "No such file or directory",
    "The connection cannot be established with server",
    "GetEndpoints timed out",
    "closed before CONNACK",
    "timed out",
    "simulated outage",
  ].join("|"),
);

const RUNNING_STATES = new Set(["connected", "connecting", "disconnected", "degraded", "faulted"]);

/** What is wrong with a device after its first connection attempt; empty when nothing is. */
function stateProblems(info: DeviceInfo, spec: DeviceSpec): string[] {
  if (spec.enabled === false)
    return info.state === "stopped" && info.stateReason ? [] : [`disabled device is ${info.state}`];
  const problems: string[] = [];
  if (!RUNNING_STATES.has(info.state)) problems.push(`state ${info.state}`);
  if (info.state !== "connected" && !info.stateReason) problems.push(`${info.state} without a reason`);
  if (info.stateReason?.startsWith("cannot build the device"))
    problems.push(`validate accepted a device its adapter cannot build: ${info.stateReason}`);
  if (info.state === "disconnected" && !ABSENT_PEER.test(info.stateReason ?? ""))
    problems.push(`cannot start for a reason other than the absent peer: ${info.stateReason}`);
  if (info.stateReason?.startsWith("fault:"))
    problems.push(`an error escaped the adapter while it started: ${info.stateReason}`);
  return problems;
}

interface Tally {
  accepted: number;
  refused: number;
}

async function property(devices: unknown[], tally: Tally): Promise<void> {
  const text = JSON.stringify({ version: 1, gateway: "prop", dataDir, devices });
  const result = parseConfig(text, {
    file: join(dataDir, "gateway.yaml"),
    lookup: (t) => registry.get(t),
    env: {},
  });
  if (!result.ok) {
    tally.refused++;
    expect(result.errors.length).toBeGreaterThan(0);
    expect(
      result.errors.filter((e) => e.path.startsWith("devices")),
      JSON.stringify(result.errors),
    ).not.toEqual([]);
    return;
  }
  tally.accepted++;
  const specs = result.config.devices as unknown as DeviceSpec[];
  const escapedBefore = escapedCounts()?.outside ?? 0;
  const gateway = new Gateway({ id: "prop", dataDir, devices: specs, registry, log });
  try {
    gateway.start();
    const attempted = await until(() => gateway.ready(), ATTEMPT_DEADLINE_MS);
    const states = gateway.devices();
    expect(attempted, `first connection attempt still running: ${JSON.stringify(states)}`).toBe(true);
    const problems = specs.flatMap((spec, i) =>
      stateProblems(states[i]!, spec).map((p) => `${spec.id}: ${p}`),
    );
    expect(problems).toEqual([]);
  } finally {
    const stopped = await within(gateway.stop(), STOP_DEADLINE_MS);
    expect(stopped, "Gateway.stop() hung").not.toBe("timeout");
  }
  expect((escapedCounts()?.outside ?? 0) - escapedBefore, "errors escaped outside every device").toBe(0);
  expect(
    [...(escapedCounts()?.byDevice.values() ?? [])].reduce((a, b) => a + b, 0),
    "errors escaped devices",
  ).toBe(0);
}

describe("validate accepts exactly what run can start", () => {
  it.each(["simulator", "modbus", "opcua", "mqtt"])(
    "%s: every accepted config builds, starts and shows a named state; every refusal names a path",
    async (type) => {
      const tally: Tally = { accepted: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(devicesArbitrary(type), (devices) => property(devices, tally)),
        { numRuns: RUNS[type] },
      );
      // The property is only worth something if both sides were exercised.
      expect(tally.accepted, JSON.stringify(tally)).toBeGreaterThanOrEqual(RUNS[type]! / 10);
      expect(tally.refused, JSON.stringify(tally)).toBeGreaterThanOrEqual(RUNS[type]! / 10);
    },
    60_000,
  );
});
