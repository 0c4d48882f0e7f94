import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { installLike, runNewCommand } from "../../test/helpers/scaffold.js";
import { registerAdapterCommand, scaffoldAdapter } from "./scaffold.js";

const temp = () => mkdtempSync(join(tmpdir(), "tagbridge-scaffold-"));
const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const runCommand = (...args: string[]) => runNewCommand(registerAdapterCommand, "adapter", ...args);

describe("tagbridge adapter new", () => {
  it("writes a package: manifest, build settings, sources, README, example, tests", async () => {
    const dir = join(temp(), "acme");
    const { out } = await runCommand("acme-plc", "--dir", dir);
    expect(out).toContain("src/client.ts");
    const pkg = JSON.parse(read(dir, "package.json"));
    expect(pkg).toMatchObject({
      name: "tagbridge-adapter-acme-plc",
      type: "module",
      exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
      peerDependencies: { tagbridge: expect.stringMatching(/^\^\d/), typebox: expect.any(String) },
      devDependencies: { tagbridge: expect.any(String), vitest: expect.any(String) },
    });
    expect(pkg.dependencies?.tagbridge).toBeUndefined();
    expect(JSON.parse(read(dir, "tsconfig.build.json")).compilerOptions.outDir).toBe("dist");

    const index = read(dir, "src/index.ts");
    expect(index).toContain('type: "acme-plc"');
    expect(index).toContain('sdk: "^1.0.0"');
    expect(index).toContain("export default acmePlcAdapter;");
    expect(read(dir, "src/config.ts")).toContain("export const AcmePlcConnectionSchema");
    expect(read(dir, "src/client.ts")).toContain("export interface Client");
    expect(read(dir, "test/adapter.test.ts")).toContain('from "tagbridge/sdk/testing"');
    // Nothing but the public SDK is imported from tagbridge.
    for (const file of ["src/index.ts", "src/adapter.ts", "src/client.ts", "test/adapter.test.ts"])
      for (const m of read(dir, file).matchAll(/from "(tagbridge[^"]*)"/g))
        expect(["tagbridge/sdk", "tagbridge/sdk/testing"]).toContain(m[1]);

    const headings = [...read(dir, "README.md").matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual([
      "Overview",
      "Configuration",
      "Addressing",
      "Readings produced",
      "Example",
      "Limits",
    ]);
    expect(read(dir, "example.yaml")).toContain("adapters: [tagbridge-adapter-acme-plc]");
  });

  it("takes a package name, and defaults the directory to it", async () => {
    const cwd = temp();
    vi.spyOn(process, "cwd").mockReturnValue(cwd);
    const result = scaffoldAdapter({ name: "x", packageName: "@acme/tagbridge-x", dir: join(cwd, "x") });
    expect(JSON.parse(read(result.dir, "package.json")).name).toBe("@acme/tagbridge-x");
    const dflt = scaffoldAdapter({ name: "y" });
    expect(dflt.dir).toBe(join(cwd, "tagbridge-adapter-y"));
    expect(JSON.parse(read(dflt.dir, "package.json")).name).toBe("tagbridge-adapter-y");
  });

  it("refuses a name the core would refuse, and a directory that is not empty", async () => {
    expect((await runCommand("Acme_PLC", "--dir", temp())).err).toMatch(
      /adapter name 'Acme_PLC' must be lowercase letters, digits and dashes/,
    );
    expect(process.exitCode).toBe(1);
    const dir = temp();
    writeFileSync(join(dir, "keep.txt"), "mine");
    expect((await runCommand("acme", "--dir", dir)).err).toMatch(/exists and is not empty/);
    expect(read(dir, "keep.txt")).toBe("mine");
  });

  it("generates a package that type-checks against the published SDK types and passes its own tests", async () => {
    const dir = join(temp(), "pkg");
    scaffoldAdapter({ name: "acme-plc", dir });
    const run = installLike(dir);
    await run("typescript/bin/tsc", "-p", ".");
    await run("typescript/bin/tsc", "-p", "tsconfig.build.json");
    expect(read(dir, "dist/index.d.ts")).toContain("acmePlcAdapter");
    const tests = await run("vitest/vitest.mjs", "run", "--root", dir);
    expect(tests.stdout).toMatch(/Tests\s+13 passed \(13\)/); // the kit, build check included
  }, 90_000);
});
