/**
 * Third-party adapters as an integrator ships them: the example package `tagbridge-adapter-http-json`
 * (examples/http-json-adapter) type-checks and builds against tagbridge's published SDK types, is
 * imported by name from config, polls a local HTTP server, and its readings come out of the API.
 * A package built for another SDK major is refused by `tagbridge validate` with a clear error.
 * The packages are made importable by name by test/setup/link-packages.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { select as exampleSelect } from "../examples/http-json-adapter/src/json-path.js";
import { select as mqttSelect } from "../protocols/mqtt/extract.js";
import { loadConfig } from "../src/config/load.js";
import { AdapterRegistry } from "../src/core/registry.js";
import type { Reading } from "../src/sdk/index.js";
import { type Service, startService } from "../src/service.js";
import { cli, ROOT } from "./helpers/cli.js";

const EXAMPLE = join(ROOT, "examples", "http-json-adapter");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const dir = mkdtempSync(join(tmpdir(), "tagbridge-third-party-"));

/** Runs tsc; resolves with its output, rejects with it when tsc fails. */
async function tsc(...args: string[]): Promise<void> {
  await promisify(execFile)(process.execPath, [TSC, ...args], { cwd: ROOT }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      throw new Error(`tsc ${args.join(" ")} failed:\n${e.stdout}${e.stderr}`);
    },
  );
}

describe("example package against the published SDK", () => {
  it("type-checks, tests included, with tagbridge/sdk resolved through package.json exports", async () => {
    await tsc("-p", EXAMPLE);
  }, 60_000);

  it("picks values with the same JSONPath semantics as the MQTT adapter", () => {
    const doc = {
      a: { b: [1, 2] },
      "k y": true,
      s: [
        { id: "x", v: 1 },
        { id: "y", v: 2 },
      ],
      n: null,
    };
    const cases: [string, boolean][] = [
      ["$", false],
      ["$.a.b[1]", false],
      ["$['k y']", false],
      ["$.n", false],
      ["$.a.c", false],
      ["$.s[?(@.id=='y')].v", false],
      ["$.s[*].v", true],
      ["$.a.b", true],
      ["$..v", false],
      ["$.s[?(@.id=='z')].v", false],
      ["$[", false],
    ];
    for (const [path, many] of cases)
      expect(exampleSelect(doc, path, many), path).toEqual(mqttSelect(doc, path, many));
  });
});

describe("gateway with the example package named in config", () => {
  let peer: Server;
  let service: Service | undefined;
  let config: string;

  beforeAll(async () => {
    await tsc("-p", join(EXAMPLE, "tsconfig.build.json")); // dist/, what package.json exports
    peer = createServer((req, res) => {
      if (req.url === "/status.json")
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ temperature: { value: 21.5 }, running: true, model: "PX-7" }));
      else res.writeHead(503).end("maintenance");
    });
    await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
    const { port } = peer.address() as AddressInfo;
    config = join(dir, "gateway.yaml");
    writeFileSync(
      config,
      `version: 1
gateway: third-party-gw
dataDir: ${join(dir, "data")}
http: { host: 127.0.0.1, port: 0 }
auth: { anonymous: loopback-viewer }
adapters: [tagbridge-adapter-http-json]
devices:
  - id: boiler
    type: http-json
    pollIntervalMs: 50
    connection: { url: "http://127.0.0.1:${port}/status.json", timeoutMs: 500 }
    points:
      - { id: temperature, type: float64, unit: °C, path: $.temperature.value }
      - { id: running, type: bool, path: $.running }
      - { id: model, type: float64, path: $.model }
      - { id: pump, type: float64, url: /pump.json, path: $.flow }
`,
    );
  }, 90_000);

  afterAll(async () => {
    await service?.close();
    peer.closeAllConnections();
    await new Promise((resolve) => peer.close(resolve));
  });

  it("serves the package's readings at GET /api/v1/readings/latest", async () => {
    service = await startService(config, {}, pino({ level: "silent" }));
    const url = `${service.url}/api/v1/readings/latest?device=boiler`;
    let readings: Reading[] = [];
    for (let i = 0; i < 100 && readings.length < 4; i++) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      readings = (await res.json()) as Reading[];
      if (readings.length < 4) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const byPoint = Object.fromEntries(readings.map((r) => [r.point, r]));
    expect(byPoint.temperature).toMatchObject({
      gateway: "third-party-gw",
      device: "boiler",
      protocol: "http-json",
      value: 21.5,
      unit: "°C",
      quality: "good",
    });
    expect(byPoint.running).toMatchObject({ value: true, quality: "good" });
    expect(byPoint.model).toMatchObject({ value: null, quality: "bad", status: "TypeMismatch" });
    expect(byPoint.pump).toMatchObject({ value: null, quality: "bad", status: "HTTP 503" });

    const adapters = (await (await fetch(`${service.url}/api/v1/adapters`)).json()) as { type: string }[];
    expect(adapters.map((a) => a.type)).toContain("http-json");
  });

  it("loads the package's example.yaml", async () => {
    const registry = new AdapterRegistry();
    const result = await loadConfig(join(EXAMPLE, "example.yaml"), (t) => registry.get(t), {
      knownTypes: () => registry.list().map((d) => d.type),
      loadAdapters: (packages) => registry.load(packages),
    });
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});

describe("a package built for another SDK major", () => {
  it("makes `tagbridge validate` exit 1 naming the package, its range and this SDK", async () => {
    const file = join(dir, "mismatch.yaml");
    writeFileSync(
      file,
      `version: 1
gateway: mismatch-gw
adapters: [tagbridge-adapter-sdk-mismatch]
devices:
  - id: plc
    type: future-plc
    connection: {}
    points: []
`,
    );
    const run = cli(["validate", file]);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      "adapters: adapter package 'tagbridge-adapter-sdk-mismatch': sdk range ^2.0.0 excludes this SDK, 1.0.0",
    );
  }, 30_000);
});
