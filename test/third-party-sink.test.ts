/**
 * Third-party sinks as an integrator ships them: the example package `tagbridge-sink-http-webhook`
 * (examples/http-webhook-sink) type-checks, its tests included, and builds against tagbridge's
 * published SDK types (`tagbridge/sdk` resolved through package.json `exports` to dist/), and the
 * built package, imported by its name, is a sink definition the kit's definition checks accept.
 * The packages are made importable by name by test/setup/link-packages.ts.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import type { SinkDefinition } from "../src/sdk/index.js";
import { sinkConformance } from "../src/sdk/kit.js";
import { ROOT } from "./helpers/cli.js";

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
  // The core's sink registry (config `sinks: [package]`, loading by name, validation of `north:`
  // entries through each definition's settingsSchema) is being written as part of issue 18; the
  // test that runs a gateway publishing to a webhook through this package belongs with it.
  it.todo("a gateway with `sinks: [tagbridge-sink-http-webhook]` POSTs its readings to a webhook");
  it.todo("the package's example.yaml loads");
  it.todo("a sink package built for another SDK major makes `tagbridge validate` exit 1 naming it");
});
