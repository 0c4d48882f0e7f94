/**
 * Third-party sinks as an integrator ships them: the example package `tagbridge-sink-http-webhook`
 * (examples/http-webhook-sink) type-checks, its tests included, and builds against tagbridge's
 * published SDK types (`tagbridge/sdk` resolved through package.json `exports` to dist/), and the
 * built package, imported by its name, is a sink definition the kit's definition checks accept.
 * A real gateway (startService) with `sinks: [tagbridge-sink-http-webhook]` loads it by name and
 * its readings arrive at a real HTTP peer; its entries are validated through the package's
 * settingsSchema, and a package built for another SDK major is refused by `tagbridge validate`.
 * The packages are made importable by name by test/setup/link-packages.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startWebhookPeer, type WebhookPeer } from "../examples/http-webhook-sink/test/webhook-peer.js";
import { loadConfig } from "../src/config/load.js";
import { AdapterRegistry } from "../src/core/registry.js";
import type { SinkStatus } from "../src/north/index.js";
import type { SinkDefinition } from "../src/sdk/index.js";
import { sinkConformance } from "../src/sdk/kit.js";
import { type Service, startService } from "../src/service.js";
import { cli, ROOT } from "./helpers/cli.js";

const EXAMPLE = join(ROOT, "examples", "http-webhook-sink");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

/** Runs tsc; rejects with its output when it fails. */
async function tsc(...args: string[]): Promise<void> {
  await promisify(execFile)(process.execPath, [TSC, ...args], { cwd: ROOT }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      throw new Error(`tsc ${args.join(" ")} failed:\n${e.stdout}${e.stderr}`);
    },
  );
}

describe("example sink package against the published SDK", () => {
  it("type-checks, tests included, with tagbridge/sdk resolved through package.json exports", async () => {
    await tsc("-p", EXAMPLE);
  }, 60_000);

  it("imports nothing from tagbridge but tagbridge/sdk and tagbridge/sdk/testing", () => {
    const files = ["src/index.ts", "src/sink.ts", "src/config.ts", "src/client.ts", "test/sink.test.ts"];
    for (const file of files)
      for (const m of readFileSync(join(EXAMPLE, file), "utf8").matchAll(
        /from "(tagbridge[^"]*|\.\.\/\.\.[^"]*)"/g,
      ))
        expect(["tagbridge/sdk", "tagbridge/sdk/testing"], `${file} imports ${m[1]}`).toContain(m[1]);
    const pkg = JSON.parse(readFileSync(join(EXAMPLE, "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "tagbridge-sink-http-webhook",
      keywords: ["tagbridge", "tagbridge-sink"],
      peerDependencies: { tagbridge: expect.any(String), typebox: expect.any(String) },
    });
    expect(pkg.dependencies).toBeUndefined(); // node:http only
  });
});

describe("the built package, imported by name", () => {
  let definition: SinkDefinition;
  beforeAll(async () => {
    await tsc("-p", join(EXAMPLE, "tsconfig.build.json")); // dist/, what package.json exports
    const name = "tagbridge-sink-http-webhook";
    definition = ((await import(name)) as { default: SinkDefinition }).default;
  }, 90_000);

  it("default-exports a sink definition that passes the kit's definition and shape checks", async () => {
    expect(definition).toMatchObject({ type: "http-webhook", capabilities: ["ack", "replay", "batch"] });
    const checks = sinkConformance(definition, {
      settings: { url: "http://127.0.0.1:9/hook" },
      received: async () => [],
      stopPeer: async () => undefined,
      startPeer: async () => undefined,
    });
    const offline = checks.filter((c) => /^(definition|settings|shape|stop\(\) before)/.test(c.name));
    expect(offline).toHaveLength(5);
    for (const check of offline) await check.run();
  });
});

describe("loaded by package name from `north:` in a real gateway", () => {
  const dir = mkdtempSync(join(tmpdir(), "tagbridge-third-party-sink-"));
  let peer: WebhookPeer;
  let service: Service | undefined;
  beforeAll(async () => {
    await tsc("-p", join(EXAMPLE, "tsconfig.build.json")); // the package as installed: its dist/
    peer = await startWebhookPeer();
  }, 90_000);
  afterAll(async () => {
    await service?.close();
    await peer?.stop();
  });

  it("a gateway with `sinks: [tagbridge-sink-http-webhook]` POSTs its readings to a webhook", async () => {
    const file = join(dir, "gateway.yaml");
    writeFileSync(
      file,
      `version: 1
gateway: webhook-gw
dataDir: ${join(dir, "data")}
http: { port: 0 }
auth: { anonymous: loopback-viewer }
sinks: [tagbridge-sink-http-webhook]
north:
  - id: ingest
    type: http-webhook
    select: { devices: [press-*] }
    url: ${peer.url}/hook
    headers: { authorization: Bearer test-token }
    batch: { lingerMs: 20 }
devices:
  - id: press-1
    type: simulator
    pollIntervalMs: 50
    connection: { seed: 7 }
    points:
      - { id: force, type: float64, generator: { kind: sine, periodMs: 1000, amplitude: 60, offset: 60 } }
  - id: oven-1
    type: simulator
    pollIntervalMs: 50
    connection: { seed: 8 }
    points:
      - { id: temp, type: float64, generator: { kind: sine, periodMs: 1000, amplitude: 5, offset: 200 } }
`,
    );
    service = await startService(file, {}, pino({ level: "silent" }));
    await vi.waitFor(() => expect(peer.received.length).toBeGreaterThanOrEqual(5), { timeout: 10_000 });
    // Readings taken before the webhook answered its first probe were buffered and come replayed
    // (historical); once it is connected they come live.
    await vi.waitFor(() => expect(peer.received.some((r) => !r.historical)).toBe(true), { timeout: 10_000 });
    const got = peer.received.slice(0, 5).map((r) => r.reading);
    for (const r of got)
      expect(r).toMatchObject({ gateway: "webhook-gw", device: "press-1", point: "force" });
    const seqs = got.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(peer.requests.find((q) => q.method === "POST")?.headers.authorization).toBe("Bearer test-token");
    const status = (await (await fetch(`${service.url}/api/v1/north`)).json()) as SinkStatus[];
    expect(status).toMatchObject([{ id: "ingest", type: "http-webhook", connected: true }]);
    expect(status[0]!.published).toBeGreaterThan(0);
  }, 30_000);

  it("the package's example.yaml loads", async () => {
    const registry = new AdapterRegistry();
    const result = await loadConfig(join(EXAMPLE, "example.yaml"), (t) => registry.get(t), {
      knownTypes: () => registry.list().map((d) => d.type),
      sinkLookup: (t) => registry.sinks.get(t),
      knownSinkTypes: () => registry.sinks.list().map((d) => d.type),
      loadSinks: (packages) => registry.sinks.load(packages),
      env: { HOOK_TOKEN: "secret" },
    });
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it("an entry's settings are validated through the package's settingsSchema, at their paths", async () => {
    const file = join(dir, "invalid.yaml");
    writeFileSync(
      file,
      `version: 1
gateway: webhook-gw
sinks: [tagbridge-sink-http-webhook]
north:
  - { id: ingest, type: http-webhook, url: ${peer.url}/hook, requestTimeoutMs: -5, colour: red }
`,
    );
    const run = cli(["validate", file]);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain("north[0].requestTimeoutMs");
    expect(run.output()).toContain("north[0].colour");
  }, 30_000);

  it("a sink package built for another SDK major makes `tagbridge validate` exit 1 naming it", async () => {
    const file = join(dir, "mismatch.yaml");
    writeFileSync(
      file,
      `version: 1
gateway: mismatch-gw
sinks: [tagbridge-sink-sdk-mismatch]
north:
  - { id: later, type: future-sink }
`,
    );
    const run = cli(["validate", file]);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      "sinks: sink package 'tagbridge-sink-sdk-mismatch': sdk range ^2.0.0 excludes this SDK, 1.0.0",
    );
  }, 30_000);
});
