// biome-ignore-all lint/suspicious/noTemplateCurlyInString: placeholders in plain strings are what these tests feed the loader
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Type from "typebox";
import { Settings } from "typebox/system";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AdapterDefinition, defineAdapter } from "../sdk/adapter.js";
import { formatConfigErrors } from "./errors.js";
import { type LoadResult, loadConfig, parseConfig } from "./load.js";

const fake = defineAdapter({
  type: "fake",
  description: "A fake adapter for config tests.",
  sdk: "^1.0.0",
  connectionSchema: Type.Object(
    {
      host: Type.String({ description: "Host name." }),
      port: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 65535, default: 502, description: "TCP port." }),
      ),
      password: Type.Optional(Type.String({ description: "Secret." })),
    },
    { additionalProperties: false },
  ),
  pointSchema: Type.Object({
    register: Type.Integer({ minimum: 0, maximum: 65535, description: "Register." }),
  }),
  capabilities: ["read"],
  create: () => ({ start: async () => {}, stop: async () => {}, read: async () => [] }),
}) as unknown as AdapterDefinition;

const lookup = (type: string) => (type === "fake" ? fake : undefined);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tagbridge-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(text: string, options: { env?: Record<string, string> } = {}): Promise<LoadResult> {
  const file = join(dir, "gateway.yaml");
  await writeFile(file, text);
  return loadConfig(file, lookup, { knownTypes: ["fake", "simulator"], env: options.env ?? {} });
}

/** The errors as the CLI prints them, or the config when there were none. */
function lines(result: LoadResult): string[] {
  if (result.ok) throw new Error(`expected errors, got a config: ${JSON.stringify(result.config)}`);
  return formatConfigErrors("gateway.yaml", result.errors).split("\n");
}

function config(result: LoadResult) {
  if (!result.ok) throw new Error(formatConfigErrors("gateway.yaml", result.errors));
  return result.config;
}

const VALID = `version: 1
gateway: gw1
devices:
  - id: plc1
    type: fake
    connection: { host: plc.local }
    points:
      - { id: temp, type: float32, register: 1 }
`;

describe("loadConfig: valid files", () => {
  it("applies every default and resolves dataDir against the file's directory", async () => {
    expect(config(await load(VALID))).toEqual({
      version: 1,
      gateway: "gw1",
      dataDir: join(dir, "data"),
      http: {
        host: "127.0.0.1",
        port: 8080,
        plaintext: "loopback",
        rateLimit: { max: 1200, windowMs: 60_000 },
        bodyLimitBytes: 1_048_576,
        requestTimeoutMs: 30_000,
        maxStreamClients: 100,
      },
      auth: { anonymous: "none" },
      history: {
        mode: "on",
        file: "history.sqlite",
        retentionMs: 604_800_000,
        maxSizeMb: 512,
        sweepIntervalMs: 60_000,
        queueCapacity: 50_000,
        maxBatch: 1000,
      },
      log: { level: "info" },
      pollPhase: "grid",
      shutdownTimeoutMs: 10000,
      adapters: [],
      devices: [
        {
          id: "plc1",
          type: "fake",
          enabled: true,
          pollIntervalMs: 1000,
          pollPhase: "grid",
          reconnect: { minMs: 1000, maxMs: 30000 },
          connection: { host: "plc.local", port: 502 },
          points: [{ id: "temp", type: "float32", register: 1, access: "read", publish: "onChange" }],
        },
      ],
    });
  });

  it("keeps values that are given, fills the rest of a partly given object", async () => {
    const c = config(
      await load(`version: 1
gateway: gw1
dataDir: /var/lib/tagbridge
http: { port: 9000 }
log: { level: debug }
devices:
  - id: plc1
    type: fake
    enabled: false
    pollIntervalMs: 250
    pollPhase: spread
    reconnect: { minMs: 500 }
    connection: { host: h, port: 1502 }
    points:
      - { id: a, type: bool, register: 1, access: readwrite, publish: always }
`),
    );
    expect(c.dataDir).toBe("/var/lib/tagbridge");
    expect(c.http).toEqual({
      host: "127.0.0.1",
      port: 9000,
      plaintext: "loopback",
      rateLimit: { max: 1200, windowMs: 60_000 },
      bodyLimitBytes: 1_048_576,
      requestTimeoutMs: 30_000,
      maxStreamClients: 100,
    });
    expect(c.log.level).toBe("debug");
    expect(c.devices[0]).toMatchObject({
      enabled: false,
      pollIntervalMs: 250,
      pollPhase: "spread",
      reconnect: { minMs: 500, maxMs: 30000 },
    });
    expect(c.devices[0]?.connection.port).toBe(1502);
    expect(c.devices[0]?.points[0]).toMatchObject({ access: "readwrite", publish: "always" });
  });

  it("a device without its own pollPhase takes the gateway's", async () => {
    const c = config(
      await load(`version: 1
gateway: gw1
pollPhase: spread
devices:
  - { id: a, type: fake, connection: { host: h }, points: [] }
  - { id: b, type: fake, pollPhase: grid, connection: { host: h }, points: [] }
`),
    );
    expect(c.devices.map((d) => [d.id, d.pollPhase])).toEqual([
      ["a", "spread"],
      ["b", "grid"],
    ]);
  });

  it("accepts a file without devices, and defaults are not shared between loads", async () => {
    const first = config(await load("version: 1\ngateway: gw1\n"));
    expect(first.devices).toEqual([]);
    first.http.port = 1;
    first.devices.push({} as never);
    const second = config(await load("version: 1\ngateway: gw1\n"));
    expect(second.http.port).toBe(8080);
    expect(second.devices).toEqual([]);
  });
});

describe("loadConfig: errors", () => {
  it("reports every error at once, each with its path, line and column", async () => {
    const result = await load(`version: 1
gateway: line 1
http:
  port: 70000
devices:
  - id: plc1
    type: fake
    connection:
      port: 0
    points:
      - id: t1
        type: float32
        register: -1
      - id: t2
        type: int16
  - id: p2
    type: fake
    pollIntervalMs: 5
    pollPhase: random
    connection: { host: h }
    points: {}
`);
    expect(lines(result)).toEqual([
      'gateway.yaml:2:10 gateway: must match pattern "^[A-Za-z0-9_][A-Za-z0-9_.:-]*$" (Id of this gateway, put on every reading: letters, digits, _ . : -)',
      "gateway.yaml:4:9 http.port: must be <= 65535",
      "gateway.yaml:9:7 devices[0].connection.host: is required",
      "gateway.yaml:9:13 devices[0].connection.port: must be >= 1",
      "gateway.yaml:13:19 devices[0].points[0].register: must be >= 0",
      "gateway.yaml:14:9 devices[0].points[1].register: is required",
      "gateway.yaml:18:21 devices[1].pollIntervalMs: must be >= 10",
      "gateway.yaml:19:16 devices[1].pollPhase: must be one of: grid, spread",
      "gateway.yaml:21:13 devices[1].points: must be array",
    ]);
  });

  it("reports more errors than TypeBox's default limit, and leaves that limit as it was", async () => {
    const points = Array.from(
      { length: 12 },
      (_, i) => `      - { id: p${i}, type: int16, register: -${i + 1} }`,
    );
    const result = await load(`${VALID.split("    points:")[0]}    points:\n${points.join("\n")}\n`);
    expect(lines(result)).toHaveLength(12);
    expect(lines(result)[11]).toBe("gateway.yaml:19:43 devices[0].points[11].register: must be >= 0");
    expect(Settings.Get().maxErrors).toBe(8);
  });

  it("reports unknown keys at the top, device, connection and point level, at the key", async () => {
    const result = await load(`version: 1
gateway: gw1
colour: blue
devices:
  - id: plc1
    type: fake
    bogus: 1
    connection: { host: h, hots: x }
    points:
      - { id: a, type: int16, register: 1, regster: 2 }
`);
    expect(lines(result)).toEqual([
      "gateway.yaml:3:1 colour: unknown key 'colour'",
      "gateway.yaml:7:5 devices[0].bogus: unknown key 'bogus'",
      "gateway.yaml:8:28 devices[0].connection.hots: unknown key 'hots'",
      "gateway.yaml:10:44 devices[0].points[0].regster: unknown key 'regster'",
    ]);
  });

  it("names an unknown adapter type and the known ones, and still checks the device's core fields", async () => {
    const result = await load(`version: 1
gateway: gw1
devices:
  - id: plc1
    type: modbuss
    enabled: maybe
    connection: { anything: 1 }
    points: []
  - { id: d2, connection: {}, points: [] }
`);
    expect(lines(result)).toEqual([
      "gateway.yaml:5:11 devices[0].type: unknown adapter type 'modbuss' (known: fake, simulator)",
      "gateway.yaml:6:14 devices[0].enabled: must be boolean",
      "gateway.yaml:9:5 devices[1].type: is required",
    ]);
  });

  it("validates a known type against that adapter's schema only", async () => {
    const result = await load(`version: 1
gateway: gw1
devices:
  - { id: d1, type: fake, connection: { host: h, port: x }, points: [] }
`);
    expect(lines(result)).toEqual(["gateway.yaml:4:56 devices[0].connection.port: must be integer"]);
  });

  it("reports duplicate device and point ids at the second occurrence", async () => {
    const result = await load(`version: 1
gateway: gw1
devices:
  - id: plc1
    type: fake
    connection: { host: h }
    points:
      - { id: a, type: int16, register: 1 }
      - { id: b, type: int16, register: 2 }
      - { id: a, type: int16, register: 3 }
  - id: plc1
    type: fake
    connection: { host: h }
    points: []
`);
    expect(lines(result)).toEqual([
      "gateway.yaml:10:15 devices[0].points[2].id: duplicate point id 'a' (first at points[0])",
      "gateway.yaml:11:9 devices[1].id: duplicate device id 'plc1' (first at devices[0])",
    ]);
  });

  it("rejects heartbeat and deadband without onChange, and scaling of non-numeric points", async () => {
    const result = await load(`version: 1
gateway: gw1
devices:
  - id: plc1
    type: fake
    connection: { host: h }
    points:
      - { id: a, type: int16, register: 1, publish: always, heartbeatMs: 1000 }
      - { id: b, type: bool, register: 2, scale: 2, offset: 1 }
      - { id: c, type: string, register: 3, deadband: { mode: absolute, value: 1 } }
      - { id: d, type: float64, register: 4, scale: 0.1, heartbeatMs: 5000, deadband: { mode: percent, value: 1 } }
      - { id: e, type: int16, register: 5, min: 10, max: 5 }
      - { id: f, type: int16, register: 6, min: 5, max: 5 }
    reconnect: { minMs: 5000, maxMs: 1000 }
`);
    expect(lines(result)).toEqual([
      "gateway.yaml:8:74 devices[0].points[0].heartbeatMs: heartbeatMs only applies with publish: onChange",
      "gateway.yaml:9:50 devices[0].points[1].scale: scale only applies to numeric point types (int*, uint*, float*), not 'bool'",
      "gateway.yaml:9:61 devices[0].points[1].offset: offset only applies to numeric point types (int*, uint*, float*), not 'bool'",
      "gateway.yaml:10:55 devices[0].points[2].deadband: deadband only applies to numeric point types (int*, uint*, float*), not 'string'",
      "gateway.yaml:12:58 devices[0].points[4].max: must be >= min (10)",
      "gateway.yaml:14:38 devices[0].reconnect.maxMs: must be >= reconnect.minMs",
    ]);
  });

  it("collapses a failed enum into one 'must be one of' message", async () => {
    const result = await load(`version: 1
gateway: gw1
log: { level: verbose }
devices:
  - id: plc1
    type: fake
    connection: { host: h }
    points:
      - { id: a, type: flaot32, register: 1, access: rw }
`);
    const out = lines(result);
    expect(out).toHaveLength(3);
    expect(out[0]).toBe(
      "gateway.yaml:3:15 log.level: must be one of: fatal, error, warn, info, debug, trace, silent",
    );
    expect(out[1]).toMatch(
      /^gateway\.yaml:9:24 devices\[0\]\.points\[0\]\.type: must be one of: bool, int16, uint16, .*float32, .*json\[\]$/,
    );
    expect(out[2]).toBe("gateway.yaml:9:54 devices[0].points[0].access: must be one of: read, readwrite");
  });

  it("reports a root that is not a mapping, a device that is not one, and a wrong version", async () => {
    expect(lines(await load(""))).toEqual([
      "gateway.yaml (root): empty file: expected version, gateway and devices",
    ]);
    expect(lines(await load("- 1\n"))).toEqual(["gateway.yaml:1:1 (root): must be object"]);
    expect(lines(await load("version: 2\ngateway: g\ndevices:\n  - 5\n"))).toEqual([
      "gateway.yaml:1:10 version: must be 1",
      "gateway.yaml:4:5 devices[0]: must be object",
    ]);
  });

  it("reports every YAML syntax error with its position, and nothing else", async () => {
    const result = await load("version: 1\ngateway: [gw1\ndevices: {\n");
    expect(lines(result)).toEqual([
      "gateway.yaml:3:1 (root): YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
      "gateway.yaml:4:1 (root): YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }",
    ]);
    expect(lines(await load("version: 1\nversion: 1\n"))).toEqual([
      "gateway.yaml:2:1 (root): YAML syntax error: Map keys must be unique",
    ]);
  });

  it("reports a missing file", async () => {
    const result = await loadConfig(join(dir, "nope.yaml"), lookup);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0]?.message).toMatch(
      /^cannot read config file '.*nope\.yaml' \(ENOENT\)$/,
    );
  });
});

describe("loadConfig: placeholders", () => {
  const WITH_PLACEHOLDERS = `version: 1
gateway: \${env:GW_ID:-gw-default}
http:
  port: \${env:HTTP_PORT}
devices:
  - id: plc1
    type: fake
    connection:
      host: \${env:PLC_HOST}.local
      port: \${env:PLC_PORT}
      password: \${env:PLC_PASSWORD}
    points:
      - { id: a, type: int16, register: 1, description: "\${file:secrets/desc.txt}" }
`;

  it("substitutes env and file values, coerces whole numeric placeholders, keeps strings where strings are wanted", async () => {
    await writeFile(join(dir, "desc.txt"), "wrong file: paths are relative to the config's directory\n");
    await mkdir(join(dir, "secrets"));
    await writeFile(join(dir, "secrets", "desc.txt"), "Boiler temperature\n");
    const result = await load(WITH_PLACEHOLDERS, {
      env: { HTTP_PORT: "9100", PLC_HOST: "plc7", PLC_PORT: "1502", PLC_PASSWORD: "123456" },
    });
    const c = config(result);
    expect(c.gateway).toBe("gw-default");
    expect(c.http.port).toBe(9100);
    expect(c.devices[0]?.connection).toEqual({ host: "plc7.local", port: 1502, password: "123456" });
    expect(c.devices[0]?.points[0]?.description).toBe("Boiler temperature");
    expect(result.ok && result.substituted).toEqual([
      "gateway",
      "http.port",
      "devices[0].connection.host",
      "devices[0].connection.port",
      "devices[0].connection.password",
      "devices[0].points[0].description",
    ]);
  });

  it("reports missing env vars and unreadable files at the value's path, and never shows a secret", async () => {
    const result = await load(WITH_PLACEHOLDERS, {
      env: { HTTP_PORT: "99999", PLC_PORT: "abc", PLC_PASSWORD: "s3cr3t-value" },
    });
    const out = lines(result);
    expect(out).toEqual([
      "gateway.yaml:4:9 http.port: must be <= 65535",
      "gateway.yaml:9:13 devices[0].connection.host: environment variable 'PLC_HOST' is not set (use ${env:PLC_HOST:-default} for a default)",
      "gateway.yaml:10:13 devices[0].connection.port: must be integer",
      `gateway.yaml:13:57 devices[0].points[0].description: cannot read file '${join(dir, "secrets", "desc.txt")}' (ENOENT)`,
    ]);
    expect(out.join("\n")).not.toContain("s3cr3t-value");
  });
});

describe("loadConfig: placeholder errors", () => {
  it("reports only the missing variable, not what the schema says about the empty value left behind", async () => {
    expect(lines(await load("version: 1\ngateway: ${env:GW}\n"))).toEqual([
      "gateway.yaml:2:10 gateway: environment variable 'GW' is not set (use ${env:GW:-default} for a default)",
    ]);
  });
});

describe("loadConfig: third-party adapter packages", () => {
  it("loads the packages named in `adapters` before checking devices, and reports a failure there", async () => {
    const file = join(dir, "gateway.yaml");
    await writeFile(
      file,
      `version: 1\ngateway: gw1\nadapters: [tagbridge-adapter-late]\ndevices:\n${VALID.split("devices:\n")[1]}`,
    );
    let late: AdapterDefinition | undefined;
    const loaded = await loadConfig(file, (t) => (t === "fake" ? late : undefined), {
      loadAdapters: async (packages) => {
        expect(packages).toEqual(["tagbridge-adapter-late"]);
        late = fake;
      },
    });
    expect(config(loaded).adapters).toEqual(["tagbridge-adapter-late"]);

    const failed = await loadConfig(file, () => undefined, {
      knownTypes: () => [],
      loadAdapters: async () => {
        throw new Error("adapter package 'tagbridge-adapter-late' could not be loaded: not found");
      },
    });
    expect(lines(failed)).toEqual([
      "gateway.yaml:3:11 adapters: adapter package 'tagbridge-adapter-late' could not be loaded: not found",
      "gateway.yaml:6:11 devices[0].type: unknown adapter type 'fake'",
    ]);
  });
});

describe("parseConfig", () => {
  it("parses text without touching the file system, relative to the given file", () => {
    const result = parseConfig(VALID.replace("gateway: gw1", "gateway: gw1\ndataDir: ../state"), {
      file: "/etc/tagbridge/gateway.yaml",
      lookup,
    });
    expect(config(result).dataDir).toBe("/etc/state");
  });
});
