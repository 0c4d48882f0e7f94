// biome-ignore-all lint/suspicious/noTemplateCurlyInString: placeholders in plain strings are what these tests feed the gateway
/**
 * Broken configuration changes, applied every way a user can (file change, SIGHUP, reload through
 * the API, every device and point route) to a real `tagbridge run` process: each one is refused
 * with its error named, the process stays up, the running devices and the file stay as they were.
 * A regression case for each finding of issue 15.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, cli } from "../helpers/cli.js";
import { apiCaller } from "../helpers/http.js";

const dir = mkdtempSync(join(tmpdir(), "tagbridge-broken-edits-"));
const file = join(dir, "gateway.yaml");
const GOOD = `version: 1
gateway: edits-gw
http: { port: 0 }
adapters: [tagbridge-adapter-misbehaving]
devices:
  - id: steady
    type: simulator
    pollIntervalMs: 100
    connection: {}
    points:
      - { id: t, type: float64, generator: { kind: sine } }
  - id: broker
    type: mqtt
    enabled: false
    connection: { url: "mqtt://127.0.0.1:1", username: line1, password: "\${env:TB_EDITS_SECRET}" }
    points:
      - { id: x, type: float64, topic: a/b }
`;

/** Devices that must be refused, each with the error that names why. */
const BROKEN_DEVICES: { name: string; device: Record<string, unknown>; error: RegExp }[] = [
  {
    name: "Modbus over TCP without a host",
    device: {
      id: "nohost",
      type: "modbus",
      connection: { transport: "tcp" },
      points: [{ id: "p", type: "int16", address: "hr:0" }],
    },
    error: /connection.*host/,
  },
  {
    name: "an adapter whose create() refuses what its check() accepted",
    device: { id: "refuser", type: "misbehaving", connection: { mode: "refuse-create" }, points: [] },
    error: /cannot build this device: this device needs a 'host'/,
  },
  {
    name: "an adapter whose check() throws",
    device: { id: "thrower", type: "misbehaving", connection: { mode: "check-throws" }, points: [] },
    error: /check\(\) failed: cannot read properties of undefined/,
  },
  {
    name: "min > max",
    device: {
      id: "range",
      type: "simulator",
      connection: {},
      points: [{ id: "p", type: "float64", min: 10, max: 1, generator: { kind: "sine" } }],
    },
    error: /points\[0\]\.max.*must be >= min \(10\)/,
  },
];

/** Whole files that must be refused on reload, each with the error that names why. */
const BROKEN_FILES: { name: string; text: string; error: RegExp }[] = [
  ...BROKEN_DEVICES.map((b) => ({
    name: b.name,
    text: `${GOOD}  - ${JSON.stringify(b.device)}\n`,
    error: b.error,
  })),
  {
    name: "an unknown placeholder kind",
    text: GOOD.replace("connection: {}", 'connection: { seed: "${envv:X}" }'),
    error: /unknown placeholder '\$\{envv:…\}'/,
  },
  {
    name: "an unclosed placeholder",
    text: GOOD.replace("username: line1", 'username: "${env:USER"'),
    error: /unclosed placeholder/,
  },
  { name: "YAML that does not parse", text: `${GOOD}  - { id: [\n`, error: /devices|YAML|flow/i },
];

let p: CliProcess;
let api: string;
let headers: Record<string, string>;

const call = apiCaller(
  () => api,
  () => headers,
);

/** What must not change: the file, the device list with each device's start time, and the process. */
async function snapshot() {
  const devices = (await call("GET", "/devices")).body as { id: string; stateSince: string }[];
  return {
    file: readFileSync(file, "utf8"),
    devices: devices.map((d) => `${d.id}@${d.stateSince}`).sort(),
  };
}

async function expectUnchanged(before: Awaited<ReturnType<typeof snapshot>>) {
  expect(p.child.exitCode).toBeNull();
  expect(await snapshot()).toEqual(before);
}

/** Resolves once the process logs `what` after output position `from`; returns the text logged since. */
async function loggedSince(from: number, what: RegExp, ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const since = p.output().slice(from);
    if (what.test(since)) return since;
    if (Date.now() > end) throw new Error(`not logged in ${ms} ms: ${what}; since then:\n${since}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes the good file back and waits until the watcher has applied it (nothing changes). */
async function restore(good: string): Promise<void> {
  const from = p.output().length;
  writeFileSync(file, good);
  await loggedSince(from, /configuration applied/);
}

beforeAll(async () => {
  writeFileSync(file, GOOD);
  p = cli(["run", "-c", file, "--log-level", "info"], { TB_EDITS_SECRET: "s3cret-canary" });
  const [, port] = await p.waitFor(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/);
  api = `http://127.0.0.1:${port}/api/v1`;
  await p.waitFor(/first start: created an admin API token/);
  headers = { authorization: `Bearer ${readFileSync(join(dir, "data", "admin-token"), "utf8").trim()}` };
  await p.waitFor(/device connected/);
}, 60_000);

afterAll(async () => {
  p?.child.kill("SIGTERM");
  await p?.exited;
});

describe("broken configuration changes leave the gateway and the file as they were", () => {
  for (const b of BROKEN_DEVICES) {
    it(`POST /devices with ${b.name}: 422 naming the error`, async () => {
      const before = await snapshot();
      const res = await call("POST", "/devices", b.device);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("TB_ERR_CONFIG_INVALID");
      expect(JSON.stringify(res.body.error.details)).toMatch(b.error);
      await expectUnchanged(before);
    });

    it(`PUT /devices/steady turned into ${b.name}: 422, steady keeps running`, async () => {
      const before = await snapshot();
      const res = await call("PUT", "/devices/steady", { ...b.device, id: "steady" });
      expect(res.status).toBe(422);
      expect(JSON.stringify(res.body.error.details)).toMatch(b.error);
      await expectUnchanged(before);
    });
  }

  it("POST and PUT of a broken point: 422", async () => {
    const before = await snapshot();
    const bad = { id: "p2", type: "float64", min: 5, max: 1, generator: { kind: "sine" } };
    expect((await call("POST", "/devices/steady/points", bad)).status).toBe(422);
    expect((await call("PUT", "/devices/steady/points/t", { ...bad, id: "t" })).status).toBe(422);
    await expectUnchanged(before);
  });

  it("a body whose id differs from the path is a 400, not a rename", async () => {
    const before = await snapshot();
    const device = await call("PUT", "/devices/steady", {
      id: "renamed",
      type: "simulator",
      connection: {},
      points: [],
    });
    expect(device.status).toBe(400);
    expect(device.body.error.code).toBe("TB_ERR_BAD_REQUEST");
    const point = await call("PUT", "/devices/steady/points/t", {
      id: "t2",
      type: "float64",
      generator: { kind: "sine" },
    });
    expect(point.status).toBe(400);
    await expectUnchanged(before);
  });

  it("a device taken from GET /config and PUT back keeps its secret's placeholder", async () => {
    const exported = (await call("GET", "/config")).body as { devices: { id: string }[] };
    const broker = exported.devices.find((d) => d.id === "broker") as Record<string, unknown>;
    expect((broker.connection as { password: string }).password).toBe("***");
    const res = await call("PUT", "/devices/broker", broker);
    expect(res.status).toBe(200);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("${env:TB_EDITS_SECRET}");
    expect(text).not.toContain("***");
    expect(text).not.toContain("s3cret-canary");
  });

  it("a masked value with no stored secret, or one that only looks masked, is refused", async () => {
    const before = await snapshot();
    const device = { id: "new", type: "mqtt", enabled: false, connection: { url: "mqtt://127.0.0.1:1" } };
    const masked = await call("POST", "/devices", {
      ...device,
      connection: { ...device.connection, password: "***" },
      points: [],
    });
    expect(masked.status).toBe(422);
    expect(JSON.stringify(masked.body.error.details)).toMatch(/none is stored here/);
    const exported = (await call("GET", "/config")).body as { devices: { id: string }[] };
    const broker = exported.devices.find((d) => d.id === "broker") as unknown as {
      connection: Record<string, unknown>;
    };
    const lookalike = await call("PUT", "/devices/broker", {
      ...broker,
      connection: { ...broker.connection, password: "*****" },
    });
    expect(lookalike.status).toBe(422);
    await expectUnchanged(before);
  });

  it("API input is literal: placeholders sent through the API never read files or the environment", async () => {
    const description = "${file:/etc/hostname} ${env:TB_EDITS_SECRET}";
    const res = await call("POST", "/devices", {
      id: "probe",
      type: "simulator",
      description,
      connection: {},
      points: [],
    });
    expect(res.status).toBe(201);
    expect(res.body.description).toBe(description);
    expect((await call("GET", "/devices/probe")).body.description).toBe(description);
    expect(readFileSync(file, "utf8")).toContain("$${file:/etc/hostname} $${env:TB_EDITS_SECRET}");
    expect((await call("DELETE", "/devices/probe")).status).toBe(204);
  });

  for (const b of BROKEN_FILES) {
    it(`a file change to a file with ${b.name}, then reload through the API: refused, nothing changes`, async () => {
      const good = readFileSync(file, "utf8");
      const before = await snapshot();
      const from = p.output().length;
      writeFileSync(file, b.text);
      expect(await loggedSince(from, /config reload rejected/)).toMatch(b.error); // the file watcher
      const res = await call("POST", "/config/reload");
      expect(res.status).toBe(422);
      expect(JSON.stringify(res.body.error.details)).toMatch(b.error);
      await expectUnchanged({ ...before, file: b.text });
      await restore(good);
      await expectUnchanged(before);
    });

    it(`SIGHUP with a file with ${b.name}: refused and logged, process up`, async () => {
      const good = readFileSync(file, "utf8");
      const before = await snapshot();
      const watched = p.output().length;
      writeFileSync(file, b.text);
      await loggedSince(watched, /config reload rejected/);
      const from = p.output().length;
      p.child.kill("SIGHUP");
      expect(await loggedSince(from, /config reload rejected/)).toMatch(b.error);
      await expectUnchanged({ ...before, file: b.text });
      await restore(good);
      await expectUnchanged(before);
    });
  }
});
