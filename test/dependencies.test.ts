/**
 * The dependency tree stays as issue 20 left it: node-opcua sub-packages pinned to exactly what
 * node-opcua itself depends on (one copy each), one protobufjs in production, modbus-serial on the
 * minor whose private fields adapters/modbus/client.ts reads, and `npm ls` without invalid entries
 * or extraneous ones other than the packages test/setup/link-packages.ts links.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";
import { TEST_PACKAGES } from "./setup/link-packages.js";

const run = promisify(execFile);
type Deps = Record<string, string>;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Deps;
  devDependencies: Deps;
};
const opcua = JSON.parse(readFileSync(join(ROOT, "node_modules/node-opcua/package.json"), "utf8")) as {
  version: string;
  dependencies: Deps;
};

interface Node {
  version?: string;
  invalid?: string;
  extraneous?: boolean;
  dependencies?: Record<string, Node>;
}

async function tree(...args: string[]): Promise<Node> {
  // npm ls exits 1 on any problem; the JSON still says which.
  const out = await run("npm", ["ls", "--all", "--json", ...args], { cwd: ROOT, maxBuffer: 64 << 20 }).catch(
    (error: { stdout: string }) => ({ stdout: error.stdout }),
  );
  return JSON.parse(out.stdout) as Node;
}

function walk(node: Node, visit: (name: string, n: Node, path: string[]) => void, path: string[] = []): void {
  for (const [name, child] of Object.entries(node.dependencies ?? {})) {
    visit(name, child, path);
    // The linked test packages point back at the repository: do not walk into them.
    if (!(name in TEST_PACKAGES)) walk(child, visit, [...path, name]);
  }
}

describe("dependencies", () => {
  it("pins node-opcua sub-packages to exactly the versions node-opcua depends on", () => {
    expect(pkg.dependencies["node-opcua"]).toBe(opcua.version);
    const pinned = { ...pkg.dependencies, ...pkg.devDependencies };
    const subs = Object.keys(pinned).filter((k) => k.startsWith("node-opcua-"));
    expect(subs.length).toBeGreaterThan(3);
    for (const name of subs) expect(pinned[name], name).toBe(opcua.dependencies[name]);
  });

  it("keeps modbus-serial on the 8.0 minor and test-only packages out of dependencies", () => {
    expect(pkg.dependencies["modbus-serial"]).toMatch(/^~8\.0\./);
    for (const name of ["sparkplug-payload", "testcontainers", "vitest", "ws", "fast-check"])
      expect(pkg.dependencies[name], name).toBeUndefined();
  });

  it("npm ls: nothing invalid, nothing extraneous but the test links, one copy of each node-opcua package", async () => {
    const problems: string[] = [];
    const versions = new Map<string, Set<string>>();
    walk(await tree(), (name, n, path) => {
      if (n.invalid) problems.push(`${[...path, name].join(" > ")}: invalid ${n.invalid}`);
      if (n.extraneous && !(path.length === 0 && name in TEST_PACKAGES)) problems.push(`${name}: extraneous`);
      if (n.version && name.startsWith("node-opcua"))
        versions.set(name, (versions.get(name) ?? new Set()).add(n.version));
    });
    expect(problems).toEqual([]);
    for (const [name, v] of versions) expect([...v], name).toHaveLength(1);
  }, 60_000);

  it("production tree: one protobufjs (7)", async () => {
    const found = new Set<string>();
    walk(await tree("--omit=dev"), (name, n) => {
      if (name === "protobufjs" && n.version) found.add(n.version);
    });
    expect([...found]).toHaveLength(1);
    expect([...found][0]).toMatch(/^7\./);
  }, 60_000);
});
