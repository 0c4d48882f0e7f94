import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { installLike, runNewCommand } from "../../test/helpers/scaffold.js";
import { registerSinkCommand, scaffoldSink } from "./scaffold/sink-command.js";

const temp = () => mkdtempSync(join(tmpdir(), "tagbridge-sink-scaffold-"));
const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const runCommand = (...args: string[]) => runNewCommand(registerSinkCommand, "sink", ...args);

describe("tagbridge sink new", () => {
  it("writes a package: manifest, build settings, sources, README, example, tests", async () => {
    const dir = join(temp(), "historian");
    const { out } = await runCommand("acme-historian", "--dir", dir);
    expect(out).toContain("src/sink.ts");
    expect(out).toContain("docs/writing-a-sink.md");
    const pkg = JSON.parse(read(dir, "package.json"));
    expect(pkg).toMatchObject({
      name: "tagbridge-sink-acme-historian",
      description: "tagbridge north sink for acme-historian",
      keywords: ["tagbridge", "tagbridge-sink"],
      type: "module",
      exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
      peerDependencies: { tagbridge: expect.stringMatching(/^\^\d/), typebox: expect.any(String) },
      devDependencies: { tagbridge: expect.any(String), vitest: expect.any(String) },
    });
    expect(pkg.dependencies?.tagbridge).toBeUndefined();
    expect(JSON.parse(read(dir, "tsconfig.build.json")).compilerOptions.outDir).toBe("dist");

    const index = read(dir, "src/index.ts");
    expect(index).toContain("defineSink({");
    expect(index).toContain('type: "acme-historian"');
    expect(index).toContain('sdk: "^1.0.0"');
    expect(index).toContain('capabilities: ["ack", "replay"]');
    expect(index).toContain("export default acmeHistorianSink;");
    expect(read(dir, "src/config.ts")).toContain("export const AcmeHistorianSettingsSchema");
    expect(read(dir, "src/client.ts")).toContain("export interface Client");
    expect(read(dir, "test/sink.test.ts")).toContain("sinkConformance(definition");
    // Nothing but the public SDK is imported from tagbridge.
    for (const file of [
      "src/index.ts",
      "src/sink.ts",
      "src/client.ts",
      "test/sink.test.ts",
      "test/fake-peer.ts",
    ])
      for (const m of read(dir, file).matchAll(/from "(tagbridge[^"]*)"/g))
        expect(["tagbridge/sdk", "tagbridge/sdk/testing"]).toContain(m[1]);

    const headings = [...read(dir, "README.md").matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual([
      "Overview",
      "Configuration",
      "What the peer receives",
      "Acknowledgement and reachability",
      "Example",
      "Limits",
    ]);
    expect(read(dir, "example.yaml")).toContain("sinks: [tagbridge-sink-acme-historian]");
    expect(read(dir, "example.yaml")).toContain("type: acme-historian");
  });

  it("takes a package name, and defaults the directory to it", async () => {
    const cwd = temp();
    vi.spyOn(process, "cwd").mockReturnValue(cwd);
    const result = scaffoldSink({ name: "x", packageName: "@acme/tagbridge-x", dir: join(cwd, "x") });
    expect(JSON.parse(read(result.dir, "package.json")).name).toBe("@acme/tagbridge-x");
    const dflt = scaffoldSink({ name: "y" });
    expect(dflt.dir).toBe(join(cwd, "tagbridge-sink-y"));
    expect(JSON.parse(read(dflt.dir, "package.json")).name).toBe("tagbridge-sink-y");
  });

  it("refuses a name the core would refuse, and a directory that is not empty", async () => {
    expect((await runCommand("Acme_Hist", "--dir", temp())).err).toMatch(
      /cannot create sink: sink name 'Acme_Hist' must be lowercase letters, digits and dashes/,
    );
    expect(process.exitCode).toBe(1);
    const dir = temp();
    writeFileSync(join(dir, "keep.txt"), "mine");
    expect((await runCommand("acme", "--dir", dir)).err).toMatch(/exists and is not empty/);
    expect(read(dir, "keep.txt")).toBe("mine");
  });

  it("generates a package that type-checks against the published SDK types and passes its own tests", async () => {
    const dir = join(temp(), "pkg");
    scaffoldSink({ name: "acme-historian", dir });
    const run = installLike(dir);
    await run("typescript/bin/tsc", "-p", ".");
    await run("typescript/bin/tsc", "-p", "tsconfig.build.json");
    expect(read(dir, "dist/index.d.ts")).toContain("acmeHistorianSink");
    const tests = await run("vitest/vitest.mjs", "run", "--root", dir);
    // The kit without batch (13 checks, ack and replay included) and the behaviour test.
    expect(tests.stdout).toMatch(/Tests\s+14 passed \(14\)/);
  }, 90_000);
});
